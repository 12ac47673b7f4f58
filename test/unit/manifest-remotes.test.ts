// Remote servers in the manifest: a service with url: (http/https) and optional headers (read from
// the environment) instead of command:, kept apart from the services `mesh up` runs.
import t from 'tap';
import { MeshError } from '../../src/errors.js';
import { enabledRemotes, parseManifest } from '../../src/manifest/index.js';

const parse = (service: string[], env: Record<string, string> = {}) => parseManifest(['version: 1', 'services:', '  rem:', ...service.map((l) => `    ${l}`), ''].join('\n'), 'configs/x.yaml', env);

const failure = (service: string[]): string => {
  try {
    parse(service);
  } catch (error) {
    if (error instanceof MeshError) return error.message;
    throw error;
  }
  return '(no error)';
};

t.test('url and headers make a remote service; ${VAR}s in headers read the environment', async (t) => {
  const manifest = parse(['url: https://mcp.example.com/mcp', 'headers:', '  Authorization: Bearer ${API_TOKEN}', 'tags: [remote]'], { API_TOKEN: 's3cret' });
  t.same(manifest.services, {}, 'nothing to run');
  t.same(manifest.remotes, { rem: { url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer s3cret' }, tags: ['remote'], enabled: true } });
  t.same(enabledRemotes(manifest), { rem: { url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer s3cret' }, tags: ['remote'] } });
  t.same(enabledRemotes(parse(['url: http://127.0.0.1:1/mcp', 'enabled: false'])), {}, 'a disabled remote is not registered');
});

t.test('a bad remote service is named with its line', async (t) => {
  t.match(failure(['url: ftp://x/mcp']), /configs\/x\.yaml:4: services\.rem\.url: scheme "ftp:" not allowed: only http and https/);
  t.match(failure(['url: http://u:p@x/mcp']), /services\.rem\.url: credentials in the URL are not allowed; send them in headers/);
  t.match(failure(['url: http://x/mcp', 'command: node']), /services\.rem\.url: a service has either command \(run here\) or url \(a remote server\), not both/);
  t.match(failure(['url: http://x/mcp', 'args: [a]']), /services\.rem\.args: not used by a remote server \(url:\)/);
  t.match(failure(['command: node', 'headers: { a: b }']), /services\.rem\.headers: headers are sent to a remote server: give url: too/);
  t.match(failure(['url: http://x/mcp', 'headers: { "bad name": b }']), /services\.rem\.headers/);
  t.match(failure(['args: [a]']), /services\.rem\.command: required field is missing \(or url: for a remote Streamable HTTP server\)/);
});
