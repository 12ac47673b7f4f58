import t from 'tap';
import { startNative } from '../helpers/native.js';
import { waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';

// An instance's heartbeats speak for its own service only: once another service has taken its
// (expired) id, its beats no longer keep the intruder alive; it gets its id back once the intruder is gone.
t.test('a heartbeat does not keep another service alive under its id; the instance registers again once the id is free', async (t) => {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '3'] });
  const pp = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'pp', proxy: proxy.base });
  const id = (await proxy.api('/v1/services/pp')).body.instances[0].id as string;
  const pid = pp.proc.pid as number;
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* already gone */
    }
  });
  await waitFor(async () => (await proxy.api('/v1/services/pp')).status === 404, 'the silent instance expired', 20_000);
  const intruder = { id, name: 'evil', url: 'http://127.0.0.1:9/mcp', host: '127.0.0.1', port: 9, tools: [], toolsHash: 'h', version: '1', kind: 'native' };
  t.equal((await proxy.api('/v1/instances', { method: 'POST', body: JSON.stringify(intruder) })).status, 201, "a dead instance's id may be taken");
  process.kill(pid, 'SIGCONT');
  await waitFor(async () => (await proxy.api('/v1/services/evil')).status === 404, 'the intruder expired although pp beats under its id again', 20_000);
  await waitFor(async () => (await proxy.api('/v1/services/pp')).body.status === 'healthy', 'pp registered again under its id', 20_000);
  t.equal((await proxy.api('/v1/services/pp')).body.instances[0].id, id, 'pp has its id back');
});
