import t from 'tap';
import { startLab, type LabProxy } from '../helpers/mesh-lab.js';
import { waitFor } from '../helpers/processes.js';

// Issue 12, (d): restart PostgreSQL (on host "db") under load: calls keep routing, both proxies
// reconnect (a registration on one shows on the other again) and no registration is lost.
t.setTimeout(300_000);

const beat = ['--heartbeat-interval', '2', '--heartbeat-timeout', '30'];

t.test('PostgreSQL restarts while two proxies route calls and take heartbeats', async (t) => {
  const lab = await startLab(t, 213, ['pa', 'pb', 'svc', 'client']);
  if (!lab) return;
  const a = await lab.startProxy('pa', 'A', beat);
  const b = await lab.startProxy('pb', 'B', beat);
  await lab.startSidecar('svc', 's1', [a, b], ['--heartbeat', '1']);
  await lab.startSidecar('svc', 's2', [b, a], ['--heartbeat', '1']);
  await lab.startSidecar('svc', 's3', [a, b], ['--heartbeat', '1']);
  const client = await lab.agent('client');
  const instances = async (proxy: LabProxy) =>
    (await lab.services(proxy)).flatMap((s) => (s.instances as { id: string; status: string }[]).filter((i) => i.status === 'healthy').map((i) => `${s.name}/${i.id}`)).sort();
  await waitFor(async () => (await instances(a)).length === 3 && (await instances(b)).length === 3, 'both proxies list three healthy instances', 15_000);
  const before = await instances(a);
  t.same(await instances(b), before, 'both proxies see the same registrations');

  let stop = false;
  const failures: string[] = [];
  let calls = 0;
  const load = Promise.all(
    [a, b].map(async (proxy) => {
      for (let i = 0; !stop; i++) {
        const service = `s${(i % 3) + 1}`;
        const answer = await client.call({ proxy: proxy.url, token: lab.token }, service, 'echo', { text: `call ${i}` }, 15_000);
        calls++;
        if (!answer.ok) failures.push(`${proxy.url} ${service}: ${JSON.stringify(answer.error)}`);
      }
    }),
  );
  await waitFor(() => calls >= 10, 'ten calls went through before the restart', 20_000);
  const pid = lab.pg.pid();
  await lab.pg.restart();
  t.not(lab.pg.pid(), pid, 'PostgreSQL is a new process');
  const atRestart = calls;
  await waitFor(() => calls >= atRestart + 30, 'thirty calls after the restart', 60_000);
  for (const [id, proxy] of [['A', a] as const, ['B', b] as const]) {
    t.notOk(proxy.process.exited(), `proxy ${id} still runs after the restart`, { stderr: proxy.process.stderr().slice(-3000) });
  }
  if (a.process.exited() || b.process.exited()) return;

  // Reconnected: a registration made on each proxy after the restart reaches the other one.
  await lab.startSidecar('svc', 'late-a', [a], ['--heartbeat', '1']);
  await lab.startSidecar('svc', 'late-b', [b], ['--heartbeat', '1']);
  for (const proxy of [a, b]) {
    await waitFor(
      async () => {
        const names = (await lab.services(proxy)).map((s) => s.name as string);
        return names.includes('late-a') && names.includes('late-b');
      },
      `${proxy.url} lists the registrations made on both proxies after the restart`,
      30_000,
    );
  }
  stop = true;
  await load;
  t.same(failures, [], `no call failed (${calls} calls)`);
  for (const proxy of [a, b]) {
    const now = await instances(proxy);
    t.same(
      before.filter((id) => !now.includes(id)),
      [],
      `${proxy.url} lost no registration`,
    );
    const health = await client.json(`${proxy.url}/healthz`, lab.headers);
    t.equal(health.status, 200, `${proxy.url} is healthy again (${JSON.stringify(health.body)})`);
  }
  const rows = await lab.pg.query('select 1 as up');
  t.same(rows, [{ up: 1 }], 'the test reaches the restarted cluster through its socket');
});
