import t from 'tap';
import { namespaceListings } from '../../proxy/mcp/catalog.js';
import { meshContent, meshPromptResult, meshReadResult, parseMeshUri, toMeshUri } from '../../proxy/mcp/resource-uris.js';

// The endpoint's resource names: mesh://<service>/<the service's own uri, verbatim>.
t.test('mesh uris round-trip any original uri', async (t) => {
  for (const uri of ['demo://resource/static/document/architecture.md', 'file:///home/me/a b.txt', 'https://x.example/a?b=c#d', 'urn:isbn:0451450523', 'x']) {
    const mesh = toMeshUri('everything', uri);
    t.ok(mesh.startsWith('mesh://everything/'));
    t.same(parseMeshUri(mesh), { service: 'everything', uri }, uri);
  }
  t.equal(new URL(toMeshUri('fs', 'file:///a/b')).host, 'fs', 'a valid URL whose host is the service');
  for (const bad of ['file:///a', 'mesh://', 'mesh://fs', 'mesh://fs/', 'mesh:///x', 'MESH://fs/x']) t.equal(parseMeshUri(bad), undefined, `${bad} is not a mesh uri`);
});

t.test('a template maps to a template that expands exactly like the original', async (t) => {
  const { templates } = namespaceListings('everything', {
    resources: [],
    prompts: [],
    templates: [{ name: 'Dynamic', uriTemplate: 'demo://resource/dynamic/text/{resourceId}' }],
  });
  const template = templates[0]!;
  t.equal(template.uriTemplate, 'mesh://everything/demo://resource/dynamic/text/{resourceId}');
  t.same(template._meta, { 'mesh/service': 'everything', 'mesh/uriTemplate': 'demo://resource/dynamic/text/{resourceId}' });
  const expanded = template.uriTemplate.replace('{resourceId}', '42');
  t.same(parseMeshUri(expanded), { service: 'everything', uri: 'demo://resource/dynamic/text/42' });
});

t.test('listings are namespaced once, keeping the originals in _meta', async (t) => {
  const listings = {
    resources: [{ name: 'a.md', uri: 'demo://a.md', description: 'A doc', _meta: { keep: 1 } }],
    templates: [],
    prompts: [{ name: 'simple prompt', description: 'Says hi' }, { name: 'greet' }],
  };
  const first = namespaceListings('docs', listings);
  t.equal(namespaceListings('docs', listings), first, 'memoized per listings object');
  t.same(first.resources[0], { name: 'a.md', uri: 'mesh://docs/demo://a.md', description: '[docs] A doc', _meta: { keep: 1, 'mesh/service': 'docs', 'mesh/uri': 'demo://a.md' } });
  t.equal(first.prompts[1]!.name, 'docs__greet');
  t.equal(first.prompts[1]!.description, '[docs] greet');
  t.match(first.prompts[0]!.name, /^docs__simple_prompt_[0-9a-f]{8}$/, 'a name outside [A-Za-z0-9_-] is cleaned and hashed, stably');
  t.equal(first.prompts[0]!._meta?.['mesh/prompt'], 'simple prompt');
});

t.test('contents, prompt messages and links point through the proxy', async (t) => {
  const read = meshReadResult('fs', { contents: [{ uri: 'file:///a.txt', text: 'hi' }] });
  t.same(read.contents, [{ uri: 'mesh://fs/file:///a.txt', text: 'hi' }]);
  const blocks = [{ type: 'text' as const, text: 'x' }];
  t.equal(meshContent('fs', blocks), blocks, 'content without resources is returned as is');
  t.same(meshContent('fs', [{ type: 'resource_link', uri: 'file:///b', name: 'b' }]), [{ type: 'resource_link', uri: 'mesh://fs/file:///b', name: 'b' }]);
  const prompt = meshPromptResult('everything', {
    messages: [
      { role: 'user', content: { type: 'text', text: 'see' } },
      { role: 'user', content: { type: 'resource', resource: { uri: 'demo://r/1', text: 'one' } } },
    ],
  });
  t.same(prompt.messages[1]!.content, { type: 'resource', resource: { uri: 'mesh://everything/demo://r/1', text: 'one' } });
  t.same(prompt.messages[0]!.content, { type: 'text', text: 'see' });
});
