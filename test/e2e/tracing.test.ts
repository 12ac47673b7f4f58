import t, { type Test } from 'tap';
import { MeshClient } from '../../src/client/index.js';
import { flushTracing, startTracing, stopTracing } from '../../src/tracing/tracing.js';
import { fixture, pollJson, root, waitFor } from '../helpers/processes.js';
import { startNative } from '../helpers/native.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';
import { postModern } from '../helpers/modern.js';

// W3C trace context across real processes: an app's MeshClient call to the native cmc example,
// which asks the Python fs server (behind a sidecar) through the proxy, arrives at an OTLP/HTTP
// receiver as one trace with the right parent links; an unmodified stdio child gets the trace
// context in its request's _meta. Without an endpoint, nothing is exported and the context still
// travels. The spawned processes inherit this process's environment.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface Mesh {
  proxy: string;
}

// The proxy, fs (Python, sidecar), cmc (native), meta-echo (Python, sidecar) and relay (native, calls meta-echo's whoami).
async function startMesh(t: Test): Promise<Mesh> {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, { name: 'fs', proxy: proxy.base, extra: ['--heartbeat', '1'], command: ['python3', `${root}examples/fs_server.py`, '--root', `${root}examples/texts`] });
  await startSidecar(t, { name: 'metaecho', proxy: proxy.base, extra: ['--heartbeat', '1'], command: ['python3', fixture('meta_echo_server.py')] });
  await pollJson(`${proxy.base}/v1/services/fs`, (status, body) => status === 200 && body.status === 'healthy');
  await pollJson(`${proxy.base}/v1/services/metaecho`, (status, body) => status === 200 && body.status === 'healthy');
  await startNative(t, { script: 'examples/cmc/index.js', name: 'cmc', proxy: proxy.base });
  await startNative(t, { script: 'test/fixtures/ping-pong-instance.js', name: 'relay', proxy: proxy.base, env: { PEER: 'metaecho' } });
  return { proxy: proxy.base };
}

// The span whose id is `span`'s parent (undefined for a root).
function parentOf(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan | undefined {
  return spans.find((candidate) => candidate.spanId === span.parentSpanId);
}

// Names of `span` and its ancestors, root last: "name@service".
function lineage(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
  const names: string[] = [];
  for (let at: ReceivedSpan | undefined = span; at; at = parentOf(spans, at)) names.push(`${at.name}@${at.service}`);
  return names;
}

// Processes started from here on (and this one's tracing) export spans to `url`, batched every `delayMs`; undone at the test's end.
function exportTo(t: Test, url: string, delayMs: string): void {
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = url;
  process.env.OTEL_BSP_SCHEDULE_DELAY = delayMs;
  t.teardown(() => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  });
}

t.test('tracing on: app → cmc → fs is one trace with the right parent links', async (t) => {
  const receiver = await startOtlpReceiver(t);
  exportTo(t, receiver.url, '50');
  const mesh = await startMesh(t);
  t.equal(await startTracing('trace-test-app'), true, 'the app side traces too');
  t.teardown(() => stopTracing());
  const client = new MeshClient({ proxy: mesh.proxy, caller: 'trace-test' });
  t.teardown(() => client.close());

  await client.call('cmc', 'analyze_chapter_quality', { path: 'chapter1.txt' });
  await flushTracing();
  const appSpan = () => receiver.spans.find((span) => span.service === 'trace-test-app' && span.name === 'mesh.call' && span.attributes['mesh.service'] === 'cmc');
  await waitFor(() => appSpan() !== undefined, 'the app span arrived');
  const traceId = (appSpan() as ReceivedSpan).traceId;
  const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
  // app 1 + proxy (route, hop) 2 + cmc (forward, child, 2 calls) 4 + proxy 2×2 + fs (forward, child) 2×2 = 15
  await waitFor(() => inTrace().filter((span) => span.service === 'fs' && span.name === 'instance.child').length === 2, 'both fs child calls arrived', 15_000);
  await waitFor(() => inTrace().length >= 15, 'all 15 spans of the chain arrived', 15_000);
  const spans = inTrace();
  t.equal(new Set(receiver.spans.filter((s) => s.name === 'mesh.call' && s.service === 'trace-test-app').map((s) => s.traceId)).size, 1, 'one trace');
  t.equal(appSpan()?.parentSpanId, undefined, "the app's call is the root");
  const fsChildren = spans.filter((span) => span.service === 'fs' && span.name === 'instance.child');
  const tools = fsChildren.map((span) => span.attributes['mesh.tool']).sort();
  t.same(tools, ['analyze_narrative_structure', 'read_text'], 'both of cmc’s calls to fs are in the trace');
  for (const span of fsChildren) {
    t.same(
      lineage(spans, span),
      [
        'instance.child@fs',
        'instance.forward@fs',
        'mesh.hop@mesh-proxy',
        'mesh.route@mesh-proxy',
        'mesh.call@cmc',
        'instance.child@cmc',
        'instance.forward@cmc',
        'mesh.hop@mesh-proxy',
        'mesh.route@mesh-proxy',
        'mesh.call@trace-test-app',
      ],
      `fs.${String(span.attributes['mesh.tool'])}: child call ← sidecar forward ← proxy hop ← proxy route ← cmc's nested call ← cmc ← proxy ← app`,
    );
  }
  const route = spans.find((span) => span.name === 'mesh.route' && span.attributes['mesh.service'] === 'cmc');
  t.match(route, { kind: 2, attributes: { 'mesh.caller': 'trace-test', 'mesh.request': 'analyze_chapter_quality' } }, 'the proxy route span is a server span naming service, tool and caller');

  t.test('the stdio child gets traceparent in its request _meta, naming the sidecar child call span', async (t) => {
    const result = await client.call('relay', 'relay', {});
    await flushTracing();
    const meta = (result.structuredContent as { peer: { meta: Record<string, unknown> } }).peer.meta;
    const match = TRACEPARENT.exec(String(meta.traceparent));
    t.ok(match, `traceparent ${String(meta.traceparent)} is W3C`);
    const call = receiver.spans.find((span) => span.service === 'trace-test-app' && span.attributes['mesh.service'] === 'relay');
    await waitFor(() => receiver.spans.some((span) => span.spanId === match?.[2]), 'the span the child was given arrived');
    t.equal(match?.[1], call?.traceId, "the child's trace is the app's");
    const parent = receiver.spans.find((span) => span.spanId === match?.[2]);
    t.match(parent, { service: 'metaecho', name: 'instance.child' }, "the child's parent is the sidecar's child call span");
  });
});

t.test('spans still in the batch are exported when the proxy and the sidecar stop on SIGTERM', async (t) => {
  const receiver = await startOtlpReceiver(t);
  exportTo(t, receiver.url, '600000');
  const proxy = await startProxy(t, { extra: fast });
  const sidecar = await startSidecar(t, { name: 'metaecho', proxy: proxy.base, extra: ['--heartbeat', '1'], command: ['python3', fixture('meta_echo_server.py')] });
  await pollJson(`${proxy.base}/v1/services/metaecho`, (status, body) => status === 200 && body.status === 'healthy');
  const client = new MeshClient({ proxy: proxy.base, caller: 'trace-test' });
  t.teardown(() => client.close());
  await client.call('metaecho', 'whoami', {});
  t.equal(receiver.spans.length, 0, 'nothing exported yet (the batch waits 10 minutes)');
  await sidecar.stop();
  await proxy.stop();
  const names = receiver.spans.map((span) => `${span.name}@${span.service}`).sort();
  t.same(names, ['instance.child@metaecho', 'instance.forward@metaecho', 'mesh.hop@mesh-proxy', 'mesh.route@mesh-proxy'], 'the call’s spans were flushed on the way out');
});

t.test('tracing off: nothing exported, and the trace context still reaches the child', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const mesh = await startMesh(t);
  const client = new MeshClient({ proxy: mesh.proxy, caller: 'trace-test' });
  t.teardown(() => client.close());
  const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const passed = await client.call('relay', 'relay', {}, { trace: { traceparent: given, tracestate: 'mm=1' } });
  const meta = (passed.structuredContent as { peer: { meta: Record<string, unknown> } }).peer.meta;
  t.equal(meta.traceparent, given, "the caller's traceparent reaches the child unchanged through proxy, native instance, proxy and sidecar");
  t.equal(meta.tracestate, 'mm=1', 'and its tracestate');

  const started = await client.call('relay', 'relay', {});
  const startedMeta = (started.structuredContent as { peer: { meta: Record<string, unknown> } }).peer.meta;
  t.match(startedMeta.traceparent, TRACEPARENT, 'a call without trace context gets a new W3C trace at the proxy');
  t.not(startedMeta.traceparent, given, 'a new one');
  t.equal(receiver.requests, 0, 'nothing was exported (no endpoint set)');

  t.test('through /mcp, both eras: from _meta or from the traceparent header', async (t) => {
    const metaOf = (result: any) => (result.structuredContent as { meta: Record<string, unknown> }).meta;
    const legacy = await connectClient(t, `${mesh.proxy}/mcp`);
    const fromLegacy = await legacy.callTool({ name: 'metaecho__whoami', arguments: {}, _meta: { traceparent: given } });
    t.equal(metaOf(fromLegacy).traceparent, given, 'a legacy session: _meta');
    const other = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const lean = await postModern(`${mesh.proxy}/mcp`, 'tools/call', { name: 'metaecho__whoami', arguments: {}, _meta: { traceparent: other, tracestate: 'x=y' } });
    t.match(metaOf(lean.body.result), { traceparent: other, tracestate: 'x=y' }, 'a 2026-07-28 plain call (lean path): _meta');
    const header = await postModern(`${mesh.proxy}/mcp`, 'tools/call', { name: 'metaecho__whoami', arguments: {} }, { traceparent: other });
    t.equal(metaOf(header.body.result).traceparent, other, 'a 2026-07-28 call with the traceparent header only');
    const sdk = await postModern(`${mesh.proxy}/mcp`, 'tools/call', { name: 'metaecho__whoami', arguments: {}, _meta: { traceparent: given, 'io.modelcontextprotocol/logLevel': 'error' } });
    t.equal(metaOf(sdk.body.result).traceparent, given, "a 2026-07-28 call with a log level (the SDK's handler): _meta");

    // resources/read continues the client's trace as tools/call does: its audit row carries the trace id.
    const { resources } = await legacy.listResources();
    const chapter = resources.find((r) => r.uri.includes('chapter1'));
    t.ok(chapter, `fs offers chapter1 through the proxy (${resources.map((r) => r.uri).join(', ')})`);
    const read = '00-11111111111111111111111111111111-2222222222222222-01';
    await legacy.readResource({ uri: chapter?.uri ?? '', _meta: { traceparent: read } });
    const audit = await pollJson(`${mesh.proxy}/v1/audit?service=fs&limit=50`, (status, body) =>
      (body.entries as { tool: string; traceId?: string }[]).some((e) => e.tool.startsWith('resources/read') && e.traceId !== undefined),
    );
    const row = (audit.entries as { tool: string; traceId?: string }[]).find((e) => e.tool.startsWith('resources/read'));
    t.equal(row?.traceId, '11111111111111111111111111111111', "resources/read: the audit row has the client's trace id");
  });
});
