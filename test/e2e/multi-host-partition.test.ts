import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { startLab } from '../helpers/mesh-lab.js';
import { waitFor } from '../helpers/processes.js';

// Issue 12, (c): take the sidecars' link down for three minutes and bring it back: they re-register
// and nothing registered elsewhere is lost. Short heartbeats (2 s, removal after 30 s silent) so
// the proxies forget the cut-off sidecars well within the three minutes.
t.setTimeout(480_000);

const DOWN_MS = 180_000;
const beat = ['--heartbeat-interval', '2', '--heartbeat-timeout', '30'];

t.test('the sidecars host is cut off for three minutes, then comes back', async (t) => {
  const lab = await startLab(t, 212, ['pa', 'pb', 'svc', 'other', 'client']);
  if (!lab) return;
  const a = await lab.startProxy('pa', 'A', beat);
  const b = await lab.startProxy('pb', 'B', beat);
  await lab.startSidecar('svc', 's1', [a, b], ['--heartbeat', '2']);
  await lab.startSidecar('svc', 's2', [b, a], ['--heartbeat', '2']);
  await lab.startSidecar('other', 'steady', [b, a], ['--heartbeat', '2']);
  const client = await lab.agent('client');
  const healthyOn = async (proxy: typeof a) =>
    (await lab.services(proxy))
      .filter((s) => s.status === 'healthy')
      .map((s) => s.name as string)
      .sort();
  for (const proxy of [a, b]) await waitFor(async () => (await healthyOn(proxy)).join() === 's1,s2,steady', `${proxy.url} lists s1, s2 and steady as healthy`, 15_000);

  lab.net.host('svc').linkDown();
  const downAt = Date.now();
  const seen = { steadyMissing: [] as string[], steadyCallFailed: [] as string[], svcForgotten: { A: false, B: false } };
  while (Date.now() - downAt < DOWN_MS) {
    for (const [id, proxy] of [['A', a] as const, ['B', b] as const]) {
      const names = await healthyOn(proxy);
      if (!names.includes('steady')) seen.steadyMissing.push(`${id} at +${Date.now() - downAt} ms: ${names.join()}`);
      const listed = (await lab.services(proxy)).map((s) => s.name as string);
      if (!listed.includes('s1') && !listed.includes('s2')) seen.svcForgotten[id] = true;
      const call = await client.call({ proxy: proxy.url, token: lab.token }, 'steady', 'echo', { text: 'still here' });
      if (!call.ok) seen.steadyCallFailed.push(`${id} at +${Date.now() - downAt} ms: ${JSON.stringify(call.error)}`);
    }
    await delay(2_000); // one sample every heartbeat, for the whole three minutes
  }
  t.same(seen.steadyMissing, [], 'steady (on another host) stayed listed as healthy on both proxies the whole time');
  t.same(seen.steadyCallFailed, [], 'steady answered through both proxies the whole time');
  t.same(seen.svcForgotten, { A: true, B: true }, 'both proxies removed the silent sidecars while their link was down');

  lab.net.host('svc').linkUp();
  for (const proxy of [a, b]) await waitFor(async () => (await healthyOn(proxy)).join() === 's1,s2,steady', `${proxy.url} lists s1 and s2 again`, 60_000);
  for (const proxy of [a, b]) {
    for (const service of ['s1', 's2', 'steady']) {
      const call = await client.call({ proxy: proxy.url, token: lab.token }, service, 'echo', { text: 'back' });
      t.ok(call.ok, `${service} answers through ${proxy.url} after the link came back`, { error: call.error });
    }
  }
});
