// Circuit breaking end to end: a real proxy, real native instances (test/fixtures/flaky-instance.ts)
// that answer, hang or die on demand, every call that reaches one of them logged to a file.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runMesh } from '../helpers/mesh-cli.js';
import { pollJson, waitFor } from '../helpers/processes.js';
import { startNative, type RunningNative } from '../helpers/native.js';
import { startProxy, tempDir, type RunningProxy } from '../helpers/proxy.js';
import { connectClient } from '../helpers/sidecar.js';

interface Replica extends RunningNative {
  id: string;
  label: string;
  /** Sets what the replica's `work` does from its next call on: ok, hang or die. */
  mode(mode: 'ok' | 'hang' | 'die'): void;
}

interface Mesh {
  proxy: RunningProxy;
  /** How many calls reached each replica, by label. */
  reached(): Record<string, number>;
  call(text?: string): Promise<{ status: number; body: any }>;
  instance(replica: Replica): Promise<any>;
  metrics(): Promise<string>;
}

async function mesh(t: Test, proxyArgs: string[], labels: string[], service = 'flaky'): Promise<{ mesh: Mesh; replicas: Replica[] }> {
  const dir = tempDir(t, 'mm-circuit-');
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const proxy = await startProxy(t, { extra: proxyArgs });
  const replicas: Replica[] = [];
  for (const label of labels) {
    const modeFile = join(dir, `${label}.mode`);
    writeFileSync(modeFile, 'ok');
    const native = await startNative(t, { script: 'test/fixtures/flaky-instance.js', name: service, proxy: proxy.base, env: { FLAKY_LABEL: label, FLAKY_LOG: log, FLAKY_MODE_FILE: modeFile } });
    replicas.push({ ...native, id: `${service}.127.0.0.1.${native.port}`, label, mode: (mode) => writeFileSync(modeFile, mode) });
  }
  await pollJson(`${proxy.base}/v1/services/${service}`, (status, body) => status === 200 && body.healthyCount === labels.length);
  const reached = () => {
    const counts: Record<string, number> = Object.fromEntries(labels.map((label) => [label, 0]));
    for (const line of readFileSync(log, 'utf8').split('\n')) if (line) counts[line] = (counts[line] ?? 0) + 1;
    return counts;
  };
  const call = (text = 'x') => proxy.api(`/v1/services/${service}/tools/work/call`, { method: 'POST', body: JSON.stringify({ arguments: { text } }) });
  const instance = async (replica: Replica) => (await proxy.api(`/v1/services/${service}`)).body.instances.find((i: any) => i.id === replica.id);
  const metrics = async () => (await fetch(`${proxy.base}/metrics`)).text();
  return { mesh: { proxy, reached, call, instance, metrics }, replicas };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

t.test('a failing replica is ejected, the other takes its calls, a probe brings it back', async (t) => {
  const { mesh: m, replicas } = await mesh(t, ['--deadline', '0.5', '--eject-after', '3', '--ejection-time', '6'], ['a', 'b']);
  const [a, b] = replicas as [Replica, Replica];
  a.mode('hang');
  for (let i = 0; i < 20 && (await m.instance(a)).circuit?.state !== 'open'; i++) await m.call(`fail ${i}`);
  const ejected = await m.instance(a);
  t.match(
    ejected,
    { status: 'healthy', failures: 3, circuit: { state: 'open', consecutiveFailures: 3, ejections: 1, kept: false, lastFailure: /did not answer within 500 ms/ } },
    'three timeouts in a row eject it; its status stays healthy (it heartbeats)',
  );
  t.ok(ejected.circuit?.ejectedUntil > Date.now(), 'ejected until a moment in the future');
  const service = (await m.proxy.api('/v1/services')).body.services[0];
  t.match(service, { name: 'flaky', status: 'healthy', healthyCount: 2, ejectedCount: 1 }, '/v1/services counts it');
  t.match((await m.instance(b)).circuit, { state: 'closed', kept: false });

  const metrics = await m.metrics();
  t.match(metrics, `mesh_circuit_state{service="flaky",instance="${a.id}",state="open"} 1`, '/metrics shows the open breaker');
  t.match(metrics, `mesh_circuit_state{service="flaky",instance="${b.id}",state="closed"} 1`);
  t.match(metrics, 'mesh_circuit_ejections_total{service="flaky"} 1');

  const client = await connectClient(t, `${m.proxy.base}/mcp`);
  const status = await client.callTool({ name: 'get_service_status', arguments: { service: 'flaky' } });
  t.match(
    status.structuredContent,
    {
      ejectedCount: 1,
      instances: [
        { id: a.id, circuit: { state: 'open' } },
        { id: b.id, circuit: { state: 'closed' } },
      ],
    },
    'get_service_status shows the breakers',
  );
  const listed = await client.callTool({ name: 'list_services', arguments: {} });
  t.match(listed.structuredContent, { services: [{ name: 'flaky', ejectedCount: 1 }] }, 'list_services too');
  const ls = await runMesh(['ls', '--proxy', m.proxy.base]);
  t.match(ls.stdout, /^flaky\s+2\/2\s+healthy, 1 ejected\s/m, `mesh ls shows it\n${ls.stdout}${ls.stderr}`);

  const before = m.reached();
  for (let i = 0; i < 8; i++) {
    const answer = await m.call(`ok ${i}`);
    t.equal(answer.status, 200, `call ${i} answered while a is ejected`);
    t.match(answer.body.content[0].text, /^b: /);
  }
  t.equal(m.reached().a, before.a, 'no call reached the ejected replica');

  a.mode('ok');
  await waitFor(async () => (await m.instance(a)).circuit?.state === 'half-open', 'the ejection time is over', 15_000);
  for (let i = 0; i < 10 && (await m.instance(a)).circuit?.state !== 'closed'; i++) t.equal((await m.call(`probe ${i}`)).status, 200);
  t.match((await m.instance(a)).circuit, { state: 'closed', consecutiveFailures: 0, ejectedUntil: undefined }, 'a successful probe closes the breaker');
  const back = m.reached().a ?? 0;
  for (let i = 0; i < 6; i++) await m.call(`again ${i}`);
  t.ok((m.reached().a ?? 0) > back, 'calls reach it again');
  t.match(m.proxy.stderr(), /flaky\/flaky\.127\.0\.0\.1\.\d+ ejected for 6 s after 3 failures in a row/, 'the ejection is logged');
});

t.test('the last healthy replica is never ejected silently: still routed, marked kept, logged', async (t) => {
  const { mesh: m, replicas } = await mesh(t, ['--deadline', '0.5', '--eject-after', '2', '--ejection-time', '60'], ['solo']);
  const [solo] = replicas as [Replica];
  for (let i = 0; i < 3; i++) {
    const bad = await m.proxy.api('/v1/services/flaky/tools/work/call', { method: 'POST', body: JSON.stringify({ arguments: { text: 5 } }) });
    t.match(bad.body.error?.message ?? bad.body.content?.[0]?.text, /invalid arguments for tool "work"/, `bad arguments ${i}: the caller's error`);
  }
  t.match((await m.instance(solo)).circuit, { state: 'closed', consecutiveFailures: 0 }, "a caller's bad arguments never count");
  solo.mode('hang');
  const before = m.reached().solo ?? 0;
  for (let i = 0; i < 3; i++) t.equal((await m.call(`fail ${i}`)).status, 504, `call ${i} times out`);
  t.equal((m.reached().solo ?? 0) - before, 3, 'every call still reached it');
  t.match(await m.instance(solo), { status: 'healthy', circuit: { state: 'open', kept: true } }, 'open, but kept in rotation');
  t.match((await m.proxy.api('/v1/services')).body.services[0], { status: 'healthy', ejectedCount: 0 });
  t.match(await m.metrics(), 'mesh_circuit_kept_total{service="flaky"} 1');
  t.match(m.proxy.stderr(), /flaky\/flaky\.127\.0\.0\.1\.\d+ is failing \(.*did not answer within 500 ms\) but still routed/);
  const client = await connectClient(t, `${m.proxy.base}/mcp`);
  t.ok(
    (await client.listTools()).tools.some((tool) => tool.name === 'flaky__work'),
    'its tools stay on the MCP endpoint',
  );

  solo.mode('ok');
  const answer = await m.call('recovered');
  t.equal(answer.status, 200, 'once it answers again, so does the service (no wait for the ejection time)');
  t.match((await m.instance(solo)).circuit, { state: 'closed', kept: false });
});

t.test('a refused connection is retried on another replica; a reset or a timeout after sending is not', async (t) => {
  const { mesh: m, replicas } = await mesh(t, ['--deadline', '0.5', '--eject-after', '3'], ['a', 'b', 'c']);
  const [a, b, c] = replicas as [Replica, Replica, Replica];
  // c is gone (its port refuses connections) but still registered: its heartbeats are not overdue yet.
  await c.stop('SIGKILL');
  const start = m.reached();
  let calls = 0;
  while (calls < 30 && (await m.instance(c)).circuit?.state !== 'open') {
    const answer = await m.call(`r${calls++}`);
    t.equal(answer.status, 200, `call ${calls} answered although c refuses connections`);
  }
  const after = m.reached();
  t.equal(sum(after) - sum(start), calls, 'each call reached exactly one live replica');
  t.equal(after.c, 0);
  t.match(await m.metrics(), /mesh_call_retries_total\{service="flaky"\} 3/, 'three retries, one per refused connection');
  t.match(await m.instance(c), { circuit: { consecutiveFailures: 3, state: 'open' } }, 'refused connections count against the instance');

  a.mode('hang');
  b.mode('hang');
  const hung = m.reached();
  t.equal((await m.call('slow')).status, 504, 'a call that timed out');
  t.equal(sum(m.reached()) - sum(hung), 1, 'reached one replica: not retried');

  a.mode('die');
  b.mode('die');
  const dying = m.reached();
  const died = await m.call('die');
  t.equal(died.status, 503, 'a replica that died mid-call');
  t.match(died.body.error.message, /flaky\.work: .*(socket hang up|ECONNRESET|closed)/i, 'the error says the connection was lost');
  t.equal(sum(m.reached()) - sum(dying), 1, 'reached one replica: not retried on the other');
});
