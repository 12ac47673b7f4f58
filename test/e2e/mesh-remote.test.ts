import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, waitFor } from '../helpers/processes.js';
import { runMesh, tearDownMeshes } from '../helpers/mesh-cli.js';
import { startRemoteMcp } from '../fixtures/remote-mcp.js';

// `mesh up` of a manifest with a remote server (url: and a header token read from the environment):
// the proxy it starts registers it, `mesh call` reaches it through the mesh, and neither `mesh ls`,
// `mesh status` nor any log shows the token.

const SECRET = 'remote-TOKEN-71c2';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : []));
}

t.test('mesh up registers a remote server; its token is sent, never shown', async (t) => {
  t.setTimeout(180_000);
  const remote = await startRemoteMcp({ header: ['authorization', `Bearer ${SECRET}`], tools: ['lookup'] });
  t.teardown(() => remote.close());
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home'), REMOTE_TOKEN: SECRET };
  const port = await freePort();
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `version: 1\nproxy: { port: ${port}, mcpPort: 0, heartbeatInterval: 1, registry: ./registry.sqlite }\nservices:\n  rem:\n    url: ${remote.url}\n    headers:\n      Authorization: Bearer \${REMOTE_TOKEN}\n    tags: [remote]\n`,
  );
  tearDownMeshes(t, dir, env, () => [file]);
  const proxy = ['--proxy', `http://127.0.0.1:${port}`];

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  let called = { code: -1, stdout: '', stderr: '' };
  await waitFor(async () => (called = await runMesh(['call', 'rem', 'lookup', ...proxy], { env })).code === 0, 'the remote service answers through the mesh', 30_000);
  t.match(called.stdout, /lookup/);
  t.equal(remote.refused(), 0, 'every request carried the token');

  const shown = [await runMesh(['ls', ...proxy], { env }), await runMesh(['ls', '--json', ...proxy], { env }), await runMesh(['status', file], { env })];
  t.match(shown[0]!.stdout, /rem/);
  for (const result of shown) t.notMatch(`${result.stdout}${result.stderr}`, SECRET, 'not in mesh ls / status');
  for (const path of files(dir)) if (!path.endsWith('mesh.yaml')) t.notMatch(readFileSync(path, 'latin1'), SECRET, `not in ${path}`);
});
