// The manifest's views: section: parsed strictly (a reserved or empty view is named with its line), and
// `mesh config claude --view` points Claude Code at the view's endpoint.
import t from 'tap';
import { MeshError } from '../../src/errors.js';
import { loadManifest, parseManifest } from '../../src/manifest/load.js';
import { claudeConfig } from '../../sidecar/mesh/commands/config.js';
import { limitArgs } from '../../sidecar/mesh/orchestrator/proxy-launch.js';

const manifest = (views: string[]) => parseManifest(['version: 1', 'services: {}', 'views:', ...views, ''].join('\n'), 'configs/x.yaml', {});

const failure = (views: string[]): string => {
  try {
    manifest(views);
  } catch (error) {
    if (error instanceof MeshError) return error.message;
    throw error;
  }
  return '(no error)';
};

t.test('views select services by name or tag, optionally tools per service', async (t) => {
  const parsed = manifest(['  writing:', '    tags: [writing]', '    services: [fs]', '    tools: { fs: [read_text] }']);
  t.same(parsed.views, { writing: { services: ['fs'], tags: ['writing'], tools: { fs: ['read_text'] } } });
  t.same(parseManifest('version: 1\n', 'configs/x.yaml', {}).views, {}, 'no section: no views');
  const factory = await loadManifest('configs/factory.yaml', {});
  t.same(Object.keys(factory.views), ['writing', 'publishing', 'research'], 'the factory manifest has views');
});

t.test('a bad view is named with its line', async (t) => {
  t.match(failure(['  discovery:', '    services: [fs]']), /configs\/x\.yaml:4: views\.discovery: "discovery" is the built-in discovery view's name/);
  t.match(failure(['  empty: {}']), /configs\/x\.yaml:4: views\.empty: a view selects at least one service or tag/);
  t.match(failure(['  w:', '    service: [fs]']), /views\.w\.service: unknown key "service" \(did you mean "services"\?\)/);
  t.match(failure(['  w:', '    services: [Not A Name]']), /views\.w\.services\[0\]: must be 1-63 characters/);
});

t.test('mesh config claude --view: the view endpoint', async (t) => {
  const config = claudeConfig('http://127.0.0.1:6001', 'mesh-writing', false, undefined, { view: 'writing' });
  t.equal(config.url, 'http://127.0.0.1:6001/mcp/writing');
  t.equal(config.command, 'claude mcp add --transport http mesh-writing http://127.0.0.1:6001/mcp/writing');
  t.same(config.mcpJson, { mcpServers: { 'mesh-writing': { type: 'http', url: 'http://127.0.0.1:6001/mcp/writing' } } });
});

t.test('proxy.separator: checked, and passed to mesh-proxy as --separator', async (t) => {
  const parsed = parseManifest('version: 1\nproxy: { separator: "-" }\n', 'configs/x.yaml', {});
  t.same(limitArgs(parsed.proxy), ['--separator', '-']);
  t.throws(() => parseManifest('version: 1\nproxy: { separator: "::" }\n', 'configs/x.yaml', {}), { message: /configs\/x\.yaml:2: proxy\.separator: a separator is 1-4 characters/ });
});
