import t from 'tap';
import { freePort } from '../helpers/processes.js';
import { startNative } from '../helpers/native.js';
import { connectClient } from '../helpers/sidecar.js';
import { connectModern, postModern } from '../helpers/modern.js';

// A native instance (examples/cmc: createInstance, an in-process SDK Server behind the bridge)
// serves 2026-07-28 clients on the same /mcp as legacy ones.
const chapter = 'Chapter 9\n\n"Run," she said. He ran quickly and really very quietly.\n\nThe door closed.';

t.test('a native instance serves both eras on one URL', async (t) => {
  const instance = await startNative(t, { script: 'examples/cmc/index.js', name: 'cmc', env: { MESH_PROXY_URL: `http://127.0.0.1:${await freePort()}` } });
  const modern = await connectModern(t, instance.url);
  const legacy = await connectClient(t, instance.url);
  t.equal(modern.getProtocolEra(), 'modern');
  t.equal(legacy.getProtocolEra(), 'legacy');
  t.equal(modern.getServerVersion()?.name, 'cmc');
  const { tools } = await modern.listTools();
  t.same(tools.map((tool) => tool.name).sort(), ['analyze_chapter_quality', 'chapter_metrics']);
  const [a, b] = await Promise.all([modern.callTool({ name: 'chapter_metrics', arguments: { text: chapter } }), legacy.callTool({ name: 'chapter_metrics', arguments: { text: chapter } })]);
  t.match(a.structuredContent, { words: 15, sentences: 3 });
  t.same(a.structuredContent, b.structuredContent, 'same answer to both eras');
  const raw = await postModern(instance.url, 'tools/call', { name: 'chapter_metrics', arguments: { text: chapter } });
  t.equal(raw.body.result.resultType, 'complete');
  t.same(raw.body.result._meta['io.modelcontextprotocol/serverInfo'].name, 'cmc');
  const bad = await postModern(instance.url, 'tools/call', { name: 'chapter_metrics', arguments: { text: 5 } });
  t.equal(bad.body.result.isError, true, 'bad arguments are a tool error, as for legacy clients');
});
