import t, { type Test } from 'tap';
import { fixture, pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// SIGTERM drains: new requests are refused, calls in flight finish (up to --drain-timeout), then the process ends.

const echo = ['python3', fixture('echo_server.py')];
const callSleep = (base: string, ms: number) =>
  fetch(`${base}/v1/services/echo/tools/sleep/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ arguments: { ms } }) })
    .then(async (r) => ({ status: r.status, body: await r.text() }))
    .catch((error: Error) => ({ status: 0, body: String(error.cause ?? error.message) }));

// A proxy (fast heartbeats, plus `proxyArgs`) and a healthy echo sidecar registered with it.
async function proxyWithEcho(t: Test, proxyArgs: string[] = []) {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4', ...proxyArgs] });
  const sidecar = await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.status === 'healthy');
  return { proxy, sidecar };
}

t.test('proxy: SIGTERM lets 8 calls in flight finish, refuses new ones, then exits 0', async (t) => {
  const { proxy, sidecar } = await proxyWithEcho(t);
  const calls = Array.from({ length: 8 }, () => callSleep(proxy.base, 1_500));
  await waitFor(async () => (await sidecar.health()).inflight === 8, 'the 8 calls reached the child');
  proxy.proc.kill('SIGTERM');
  await waitFor(async () => (await callSleep(proxy.base, 1)).status !== 200, 'the proxy stopped taking new calls');
  const results = await Promise.all(calls);
  t.same(
    results.map((r) => r.status),
    Array(8).fill(200),
    `every call in flight finished: ${JSON.stringify(results.filter((r) => r.status !== 200))}`,
  );
  t.ok(results.every((r) => r.body.includes('slept 1500')));
  await waitFor(() => proxy.proc.exitCode !== null, 'the proxy exited after the drain');
  t.equal(proxy.proc.exitCode, 0);
});

t.test('proxy: the drain timeout cuts calls that outlast it', async (t) => {
  const { proxy, sidecar } = await proxyWithEcho(t, ['--drain-timeout', '0.5']);
  const call = callSleep(proxy.base, 20_000);
  await waitFor(async () => (await sidecar.health()).inflight === 1, 'the call reached the child');
  proxy.proc.kill('SIGTERM');
  t.not((await call).status, 200, 'cut at the drain timeout');
  await waitFor(() => proxy.proc.exitCode !== null, 'the proxy exited');
  t.match(proxy.stderr(), /cut 1 request\(s\) still in flight/);
});

t.test('proxy: a second signal stops at once, without waiting for the drain', async (t) => {
  const { proxy, sidecar } = await proxyWithEcho(t, ['--drain-timeout', '60']);
  const call = callSleep(proxy.base, 30_000);
  await waitFor(async () => (await sidecar.health()).inflight === 1, 'the call reached the child');
  proxy.proc.kill('SIGTERM');
  await waitFor(async () => (await callSleep(proxy.base, 1)).status !== 200, 'the proxy began draining');
  proxy.proc.kill('SIGTERM');
  await waitFor(() => proxy.proc.exitCode !== null, 'the proxy exited at the second signal', 5_000);
  t.equal(proxy.proc.exitCode, 143, 'exits 128 + SIGTERM, as the signal would have ended it');
  t.not((await call).status, 200);
});

t.test('sidecar: SIGTERM deregisters first, finishes calls in flight, then stops the child', async (t) => {
  const { proxy, sidecar } = await proxyWithEcho(t);
  const childPid = (await sidecar.health()).pid as number;
  const calls = Array.from({ length: 4 }, () => callSleep(proxy.base, 1_500));
  await waitFor(async () => (await sidecar.health()).inflight === 4, 'the calls reached the child');
  sidecar.proc.kill('SIGTERM');
  await waitFor(async () => (await proxy.api('/v1/services/echo')).status === 404, 'the sidecar deregistered');
  const results = await Promise.all(calls);
  t.same(
    results.map((r) => r.status),
    Array(4).fill(200),
    `calls in flight finished: ${JSON.stringify(results.filter((r) => r.status !== 200))}`,
  );
  await waitFor(() => sidecar.proc.exitCode !== null, 'the sidecar exited');
  t.equal(sidecar.proc.exitCode, 0);
  const { procStat } = await import('../../src/stdio/process-group.js');
  const state = procStat(childPid)?.state;
  t.ok(state === undefined || state === 'Z', `the child is gone (state ${state})`);
});

t.test('native instance: SIGTERM deregisters, lets calls in flight finish, then exits', async (t) => {
  const { startNative } = await import('../helpers/native.js');
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'] });
  const native = await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'ping', proxy: proxy.base });
  const call = () =>
    fetch(`${proxy.base}/v1/services/ping/tools/wait/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ arguments: { ms: 1_500 } }) })
      .then(async (r) => ({ status: r.status, body: await r.text() }))
      .catch((error: Error) => ({ status: 0, body: String(error.cause ?? error.message) }));
  const calls = Array.from({ length: 4 }, call);
  await waitFor(async () => (await native.health()).inflight === 4, 'the calls reached the instance');
  native.proc.kill('SIGTERM');
  const results = await Promise.all(calls);
  t.same(
    results.map((r) => r.status),
    Array(4).fill(200),
    `calls in flight finished: ${JSON.stringify(results.filter((r) => r.status !== 200))}`,
  );
  t.ok(
    results.every((r) => r.body.includes('not cancelled')),
    'none was cancelled',
  );
  await waitFor(() => native.proc.exitCode !== null || native.proc.signalCode !== null, 'the instance exited');
});

t.test('sidecar: SIGTERM lets the call of a client that declared roots (its own upstream session) finish', async (t) => {
  const { connectClient } = await import('../helpers/sidecar.js');
  const { proxy, sidecar } = await proxyWithEcho(t);
  const client = await connectClient(t, `${proxy.base}/mcp`, { capabilities: { roots: {} } }, 'roots-client');
  client.setRequestHandler('roots/list', () => ({ roots: [] }));
  const call = client.callTool({ name: 'echo__sleep', arguments: { ms: 1_500 } }).then(
    (result) => ({ ok: result.isError !== true, text: JSON.stringify(result) }),
    (error: Error) => ({ ok: false, text: error.message }),
  );
  await waitFor(async () => (await sidecar.health()).inflight === 1, 'the call reached the child');
  sidecar.proc.kill('SIGTERM');
  await waitFor(async () => (await proxy.api('/v1/services/echo')).status === 404, 'the sidecar deregistered');
  const result = await call;
  t.ok(result.ok, `the call in flight finished: ${result.text}`);
  t.match(result.text, /slept 1500/);
  await waitFor(() => sidecar.proc.exitCode !== null, 'the sidecar exited');
  t.equal(sidecar.proc.exitCode, 0);
});
