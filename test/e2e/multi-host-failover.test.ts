import t from 'tap';
import { startLab } from '../helpers/mesh-lab.js';
import { waitFor } from '../helpers/processes.js';

// Issue 12, hosts as network namespaces: PostgreSQL on "db", proxies A and B on "pa" and "pb",
// sidecars on "svc", the client on "client"; TLS and the mesh token everywhere.
// (a) a client of proxy A calls a service that registered on proxy B;
// (b) kill -9 proxy A: the calls of a client that knows both proxies continue through B.
t.setTimeout(300_000);

t.test('two proxies on one PostgreSQL, sidecars on another host', async (t) => {
  const lab = await startLab(t, 211, ['pa', 'pb', 'svc', 'client']);
  if (!lab) return;
  const a = await lab.startProxy('pa', 'A');
  const b = await lab.startProxy('pb', 'B');
  // "onb" registers with B (first in its list), "ona" with A; each fails over to the other.
  const onB = await lab.startSidecar('svc', 'onb', [b, a], ['--heartbeat', '2']);
  const onA = await lab.startSidecar('svc', 'ona', [a, b], ['--heartbeat', '2']);
  t.equal((await onB.health()).proxy.url.replace(/\/$/, ''), b.url, 'onb registered with proxy B');
  t.equal((await onA.health()).proxy.url.replace(/\/$/, ''), a.url, 'ona registered with proxy A');
  const client = await lab.agent('client');

  await t.test('a client of proxy A calls a service registered on proxy B', async (t) => {
    await waitFor(async () => (await lab.services(a)).some((s) => s.name === 'onb' && s.status === 'healthy'), 'proxy A lists onb as healthy', 10_000);
    const listed = (await lab.services(a)).find((s) => s.name === 'onb');
    t.equal(listed?.instances?.[0]?.url?.startsWith(onB.url), true, `proxy A routes onb to ${onB.url} (the svc host)`);
    const answer = await client.call({ proxy: a.url, token: lab.token }, 'onb', 'echo', { text: 'over A' });
    t.ok(answer.ok, 'the call through A succeeds', { error: answer.error });
    t.match(answer.result?.content?.[0]?.text, 'over A');
  });

  await t.test('kill -9 proxy A: calls of a client that knows both proxies continue through B', async (t) => {
    const both = { proxy: [a.url, b.url], token: lab.token };
    for (const service of ['onb', 'ona']) {
      const before = await client.call(both, service, 'echo', { text: 'before' });
      t.ok(before.ok, `${service} answers through A before the kill`, { error: before.error });
    }
    // Load while A dies: calls in flight at the moment of the kill may fail; none after it.
    let stop = false;
    const outcomes: { ok: boolean; afterKill: boolean; error?: unknown }[] = [];
    let killed = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const startedAfterKill = killed;
        const answer = await client.call(both, i % 2 === 0 ? 'onb' : 'ona', 'echo', { text: `call ${i}` }, 15_000);
        outcomes.push({ ok: answer.ok, afterKill: startedAfterKill, error: answer.error });
      }
    })();
    await waitFor(() => outcomes.length >= 5, 'five calls went through before the kill', 20_000);
    a.process.kill('SIGKILL');
    await waitFor(() => a.process.exited(), 'proxy A is dead', 10_000);
    killed = true;
    const atKill = outcomes.length;
    await waitFor(() => outcomes.length >= atKill + 20, 'twenty calls were made after the kill', 120_000);
    stop = true;
    await load;
    const failedAfter = outcomes.filter((o) => o.afterKill && !o.ok);
    t.same(failedAfter, [], 'every call started after the kill succeeded (through B)');
    t.ok(outcomes.filter((o) => o.afterKill && o.ok).length >= 20, 'calls continued after the kill');
    const onlyA = await client.call({ proxy: a.url, token: lab.token }, 'onb', 'echo', { text: 'A only' });
    t.notOk(onlyA.ok, 'a client that knows only A fails (A is really gone)');

    // The sidecar that was on A moves to B; both services stay listed on B.
    await waitFor(async () => (await onA.health()).proxy?.url?.replace(/\/$/, '') === b.url && (await onA.health()).proxy?.registered === true, 'ona re-registered with B', 60_000);
    const names = (await lab.services(b)).filter((s) => s.status === 'healthy').map((s) => s.name);
    t.same(names.sort(), ['ona', 'onb'], 'B lists both services as healthy');
  });
});
