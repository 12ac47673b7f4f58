// `mesh config CLIENT` as a user runs it: MESH_TOKEN is referenced, never printed, unless --show-token.
import t from 'tap';
import { runMesh } from '../helpers/mesh-cli.js';

t.setTimeout(120_000);
const proxy = ['--proxy', 'http://127.0.0.1:7001'];

for (const client of ['claude', 'claude-desktop', 'cursor', 'vscode']) {
  t.test(`mesh config ${client}`, async (t) => {
    // Four runs at once: each is a CLI start-up, and they share nothing.
    const [hidden, shown, plain, badView] = await Promise.all([
      runMesh(['config', client, ...proxy, '--view', 'writing'], { env: { MESH_TOKEN: 's3cret' } }),
      runMesh(['config', client, ...proxy, '--show-token', '--json'], { env: { MESH_TOKEN: 's3cret' } }),
      runMesh(['config', client, ...proxy, '--json']),
      runMesh(['config', client, ...proxy, '--view', '../x']),
    ]);
    t.equal(hidden.code, 0, hidden.stderr);
    t.match(hidden.stdout, /http:\/\/127\.0\.0\.1:7001\/mcp\/writing/, 'the view has its own endpoint');
    t.match(hidden.stdout, /Authorization/, 'the header is there');
    t.notMatch(hidden.stdout + hidden.stderr, /s3cret/, 'the token is not printed');
    t.equal(shown.code, 0, shown.stderr);
    t.match(JSON.stringify((JSON.parse(shown.stdout) as { mcpJson: unknown }).mcpJson), /Bearer s3cret/, '--show-token prints it');
    t.notMatch(plain.stdout, /Authorization/, 'no token, no header');
    t.equal(badView.code, 2, 'a view name that is no path segment is a usage error');
  });
}
