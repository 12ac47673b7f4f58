import t from 'tap';
import { ClientUpstreams } from '../../proxy/router/client-upstreams.js';
import type { RelayTarget } from '../../proxy/router/relay.js';

// The upstream sessions of relay targets (client sessions with their own upstream sessions), with a
// hand-driven clock: closed after idleMs unused, and never reopened for a client session that closed.
// Sessions open lazily (on the first request), so nothing here touches the network.
const target = (id: string): RelayTarget => ({ id, capabilities: {}, onLog: () => undefined, onRequest: async () => ({}) });
const instance = { id: 'docs-1', url: 'http://127.0.0.1:9/mcp' };

t.test('a session unused for idleMs is closed, and reopened on the next use', async (t) => {
  const clock = { now: 1_000 };
  const upstreams = new ClientUpstreams({ idleMs: 60_000, now: () => clock.now });
  t.teardown(() => upstreams.close());
  const ann = target('ann');
  const first = upstreams.get(ann, instance, 'docs');
  t.equal(upstreams.get(ann, instance, 'docs'), first, 'one session per (target, instance)');
  t.equal(upstreams.get(target('bob'), instance, 'docs') === first, false, 'another target gets its own');
  t.equal(upstreams.size, 2);
  clock.now += 59_999;
  upstreams.get(ann, instance, 'docs');
  clock.now += 1;
  upstreams.sweepIdle();
  t.equal(upstreams.size, 1, "bob's session, unused for idleMs, is closed; ann's was used since");
  clock.now += 60_000;
  upstreams.sweepIdle();
  t.equal(upstreams.size, 0, "then ann's too");
  t.not(upstreams.get(ann, instance, 'docs'), first, 'the next use opens a new session');
});

t.test('a request still in flight when its client session closed does not reopen a session', async (t) => {
  const upstreams = new ClientUpstreams();
  t.teardown(() => upstreams.close());
  const ann = target('ann');
  upstreams.get(ann, instance, 'docs');
  await upstreams.closeTarget(ann);
  t.equal(upstreams.size, 0, 'closing the target closes its sessions');
  t.throws(() => upstreams.get(ann, instance, 'docs'), { code: 'CALL_CANCELLED', message: /client session ann closed/ });
  t.equal(upstreams.size, 0, 'and a late request opens none');
  t.ok(upstreams.get(target('bob'), instance, 'docs'), 'other targets are unaffected');
});
