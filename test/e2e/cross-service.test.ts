import t from 'tap';
import { LoopDetected, MeshClient, text } from '../../src/client/index.js';
import { pollJson, root } from '../helpers/processes.js';
import { startNative } from '../helpers/native.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// The seed's story end to end, all real processes: a mesh-proxy, the Python fs example behind a
// mesh-sidecar, and the native cmc example, whose analyze_chapter_quality asks fs (through the
// proxy) for the chapter and its narrative analysis. Then two native instances that call each
// other forever, stopped by the proxy's hop limit.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];

interface Quality {
  chapter: string;
  score: number;
  grade: string;
  findings: string[];
  quality: { words: number; sentences: number; lexicalDiversity: number };
  narrative: Record<string, unknown>;
  sources: { quality: string; narrative: string; calledAs: string; hops: number };
}

t.test('cmc.analyze_chapter_quality combines its metrics with fs analysis, through the mesh', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, {
    name: 'fs',
    proxy: proxy.base,
    extra: ['--heartbeat', '1'],
    command: ['python3', `${root}examples/fs_server.py`, '--root', `${root}examples/texts`],
  });
  await pollJson(`${proxy.base}/v1/services/fs`, (status, body) => status === 200 && body.status === 'healthy');
  await startNative(t, { script: 'examples/cmc/index.js', name: 'cmc', proxy: proxy.base });

  const mesh = new MeshClient({ proxy: proxy.base, caller: 'story-test' });
  t.teardown(() => mesh.close());
  const fsAnalysis = JSON.parse(text(await mesh.call('fs', 'analyze_narrative_structure', { path: 'chapter1.txt' }))) as Record<string, unknown>;
  t.match(fsAnalysis, { word_count: Number, dialogue_ratio: Number, chapter_headings: [{ text: /^Chapter 1/ }] }, 'fs answers on its own');

  t.test('via MeshClient', async (t) => {
    const result = await mesh.call('cmc', 'analyze_chapter_quality', { path: 'chapter1.txt' });
    const quality = result.structuredContent as Quality;
    t.same(quality.narrative, fsAnalysis, "the combined result carries fs's analysis, unchanged");
    t.match(
      quality,
      {
        chapter: 'chapter1.txt',
        score: Number,
        grade: /^[ABCD]$/,
        findings: Array,
        quality: { words: fsAnalysis.word_count, sentences: Number, lexicalDiversity: Number },
        sources: { quality: 'cmc', narrative: 'fs.analyze_narrative_structure', calledAs: 'cmc', hops: 1 },
      },
      "cmc's own metrics measured the text fs read for it (same word count)",
    );
    t.equal(JSON.parse(text(result)).score, quality.score, 'the text part is the same JSON');

    const inline = 'Chapter 2\n\n"Stay," she said. He stayed.\n\nThe lamp went out.';
    const direct = (await mesh.call('cmc', 'analyze_chapter_quality', { text: inline })).structuredContent as Quality;
    t.match(direct, { chapter: '(text)', narrative: { word_count: 11, chapter_headings: [{ text: 'Chapter 2' }] } }, 'text instead of a path: fs analyses the text it is given');
  });

  t.test('via the proxy MCP endpoint as cmc__analyze_chapter_quality', async (t) => {
    const client = await connectClient(t, `${proxy.base}/mcp`, {}, 'story-mcp-client');
    const { tools } = await client.listTools();
    t.ok(
      tools.some((tool) => tool.name === 'cmc__analyze_chapter_quality'),
      'listed, namespaced',
    );
    const result = await client.callTool({ name: 'cmc__analyze_chapter_quality', arguments: { path: 'chapter2.txt' } });
    t.notOk(result.isError, text(result));
    const quality = result.structuredContent as Quality;
    const fsOwn = JSON.parse(text(await mesh.call('fs', 'analyze_narrative_structure', { path: 'chapter2.txt' })));
    t.same(quality.narrative, fsOwn, "fs's analysis of chapter2.txt, inside cmc's answer");
    t.match(quality, { chapter: 'chapter2.txt', sources: { calledAs: 'cmc', hops: 1 } });
    const missing = await client.callTool({ name: 'cmc__analyze_chapter_quality', arguments: { path: 'no-such-chapter.txt' } });
    t.equal(missing.isError, true, "fs's failure comes back as cmc's tool error");
    t.match(text(missing), /fs\.(analyze_narrative_structure|read_text) failed: .*no-such-chapter\.txt/);
  });

  t.test('the audit trail shows cmc as the caller of fs, and each caller of cmc', async (t) => {
    const fsCalls = (await proxy.api('/v1/audit?service=fs&limit=100')).body.entries as { caller: string; tool: string; outcome: string }[];
    const byCmc = fsCalls.filter((entry) => entry.caller === 'cmc');
    t.ok(
      byCmc.some((entry) => entry.tool === 'analyze_narrative_structure' && entry.outcome === 'ok'),
      'fs.analyze_narrative_structure called by cmc',
    );
    t.ok(
      byCmc.some((entry) => entry.tool === 'read_text' && entry.outcome === 'ok'),
      'fs.read_text called by cmc',
    );
    t.ok(
      fsCalls.some((entry) => entry.caller === 'story-test'),
      "the test's own fs calls are audited as story-test",
    );
    const cmcCalls = (await proxy.api('/v1/audit?service=cmc&limit=100')).body.entries as { caller: string; tool: string }[];
    t.same(new Set(cmcCalls.map((entry) => entry.caller)), new Set(['story-test', 'story-mcp-client']), 'cmc was called by the MeshClient and the MCP client');
    t.ok(cmcCalls.every((entry) => entry.tool === 'analyze_chapter_quality'));
  });
});

t.test('loop guard: two native instances calling each other fail fast with LOOP_DETECTED', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const script = 'test/fixtures/ping-pong-instance.js';
  await startNative(t, { script, name: 'ping', proxy: proxy.base, env: { PEER: 'pong' } });
  const pong = await startNative(t, { script, name: 'pong', proxy: proxy.base, env: { PEER: 'ping' } });
  const mesh = new MeshClient({ proxy: proxy.base, caller: 'loop-test', timeoutMs: 30_000 });
  t.teardown(() => mesh.close());

  t.test('hops and caller are carried on every hop', async (t) => {
    const relay = (await mesh.call('ping', 'relay', {})).structuredContent;
    t.same(relay, { here: { caller: 'loop-test', hops: 1 }, peer: { caller: 'ping', hops: 2 } });
  });

  t.test('via MeshClient: a LoopDetected error naming the chain and the limit, in bounded time', async (t) => {
    const started = Date.now();
    const error = await mesh.call('ping', 'bounce', {}).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    t.type(error, LoopDetected);
    t.match(error, {
      code: 'LOOP_DETECTED',
      message: /^ping\.bounce: pong\.bounce: ping\.bounce: .*refused: 8 mesh hops already \(limit 8\); is there a call loop\?$/,
      context: { service: 'ping', tool: 'bounce', httpStatus: 508 },
    });
    t.equal(((error as Error).message.match(/\.bounce/g) ?? []).length, 9, 'eight hops routed, the ninth refused');
    t.ok(elapsed < 15_000, `failed fast (${elapsed} ms), far from the 60 s call deadline`);
  });

  t.test('via the proxy MCP endpoint: a protocol error with the same message', async (t) => {
    const client = await connectClient(t, `${proxy.base}/mcp`);
    await t.rejects(client.callTool({ name: 'pong__bounce', arguments: {} }), {
      message: /pong\.bounce: ping\.bounce: .*refused: 8 mesh hops already \(limit 8\); is there a call loop\?$/,
      data: { code: 'LOOP_DETECTED', service: 'pong', tool: 'bounce' },
    });
  });

  t.test('via the proxy MCP endpoint, the hop count a call arrives with (_meta mesh/hops) is kept', async (t) => {
    const client = await connectClient(t, `${proxy.base}/mcp`);
    const seen = await client.callTool({ name: 'pong__whoami', arguments: {}, _meta: { 'mesh/hops': 3 } });
    t.match(seen.structuredContent, { hops: 4 }, 'one more than it arrived with');
    await t.rejects(client.callTool({ name: 'pong__whoami', arguments: {}, _meta: { 'mesh/hops': 8 } }), {
      message: /refused: 8 mesh hops already \(limit 8\)/,
      data: { code: 'LOOP_DETECTED' },
    });
  });

  t.test("a nested call gets what is left of its caller's deadline, then is cancelled", async (t) => {
    const started = Date.now();
    const error = await mesh.call('ping', 'relay_wait', { ms: 30_000 }, { timeoutMs: 1_500 }).catch((e: unknown) => e);
    t.ok(Date.now() - started < 10_000, 'the caller hears back near its deadline');
    // ping's own answer (the nested call timed out first) or the proxy's timeout of ping: both say why.
    t.match(error, { message: /pong\.wait did not answer within 1\d{3} ms|ping\.relay_wait did not answer within 1500 ms/ });
    // The wait in pong ends by cancellation (counted) well before its own 30 s; poll its counter.
    const end = Date.now() + 10_000;
    let cancelled = 0;
    while (cancelled === 0 && Date.now() < end) {
      cancelled = ((await mesh.call('pong', 'stats', {})).structuredContent as { cancelled: number }).cancelled;
      if (cancelled === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.equal(cancelled, 1, "pong's wait was cancelled long before its 30 s");
  });

  t.test('cancelling a call cancels the calls its handler made, through the proxy', async (t) => {
    const pongCancelled = async () => ((await mesh.call('pong', 'stats', {})).structuredContent as { cancelled: number }).cancelled;
    const before = await pongCancelled();
    const controller = new AbortController();
    const call = mesh.call('ping', 'relay_wait', { ms: 30_000 }, { timeoutMs: 30_000, signal: controller.signal });
    // Abort once pong's wait is running (its call is in flight in the proxy), not after a guessed sleep.
    const running = Date.now() + 10_000;
    while (Date.now() < running && (await pong.health()).inflight === 0) await new Promise((r) => setTimeout(r, 20));
    t.equal((await pong.health()).inflight, 1, "pong's wait is running");
    controller.abort(new Error('the app gave up'));
    await t.rejects(call, { code: 'CALL_CANCELLED' });
    const end = Date.now() + 10_000;
    let after = before;
    while (after === before && Date.now() < end) {
      after = await pongCancelled();
      if (after === before) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.equal(after, before + 1, "pong's wait was cancelled: app → proxy → ping → proxy → pong");
  });

  t.test('afterwards the proxy and both instances are healthy and answer', async (t) => {
    const { status, body } = await proxy.api('/healthz');
    t.equal(status, 200);
    t.equal(body.status, 'ok');
    for (const name of ['ping', 'pong']) t.match((await proxy.api(`/v1/services/${name}`)).body, { status: 'healthy' }, `${name} healthy`);
    t.same((await mesh.call('pong', 'whoami', {})).structuredContent, { caller: 'loop-test', hops: 1 });
    const audit = (await proxy.api('/v1/audit?limit=1000')).body.entries as { caller: string; service: string; errorCode?: string }[];
    const refused = audit.filter((entry) => entry.errorCode === 'LOOP_DETECTED');
    t.ok(refused.some((entry) => entry.caller === 'ping') && refused.some((entry) => entry.caller === 'pong'), 'the audit shows the loop at each hop, with its caller');
    t.ok(
      refused.some((entry) => entry.caller === 'loop-test' && entry.service === 'ping'),
      "the first caller's call is audited as LOOP_DETECTED too",
    );
  });
});
