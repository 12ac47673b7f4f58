import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixture, freePort } from '../helpers/processes.js';
import { runMesh, tearDownMeshes } from '../helpers/mesh-cli.js';
import { postModern } from '../helpers/modern.js';

// `mesh up` hands its manifest's views to the proxy it starts (--manifest), a second `mesh up` of a
// changed manifest re-applies them (PUT /v1/views), and `mesh config claude --view` points at one.

function write(file: string, port: number, views: string): void {
  const echo = (name: string, tags: string) => `  ${name}:\n    command: python3\n    args: [${fixture('echo_server.py')}]\n    tags: [${tags}]\n`;
  writeFileSync(file, `version: 1\nproxy: { port: ${port}, mcpPort: 0, registry: ./registry.sqlite }\nservices:\n${echo('a', 'writing')}${echo('b', 'code')}views:\n${views}`);
}

const toolNames = async (url: string) => ((await postModern(url, 'tools/list', {})).body.result?.tools ?? []).map((tool: { name: string }) => tool.name.split('__')[0]);

t.test('mesh up serves the manifest views; a second up applies changed views', async (t) => {
  t.setTimeout(180_000);
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const port = await freePort();
  const proxy = `http://127.0.0.1:${port}`;
  const file = join(dir, 'mesh.yaml');
  write(file, port, '  writing: { tags: [writing] }\n');
  tearDownMeshes(t, dir, env, () => [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  t.same([...new Set(await toolNames(`${proxy}/mcp/writing`))], ['a'], 'view writing: only service a');
  t.equal((await postModern(`${proxy}/mcp/code`, 'tools/list', {})).status, 404, 'no view code yet');

  write(file, port, '  code: { services: [b] }\n');
  const apply = await runMesh(['up', file], { env });
  t.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
  t.same([...new Set(await toolNames(`${proxy}/mcp/code`))], ['b'], 'view code after the second up');
  const gone = await postModern(`${proxy}/mcp/writing`, 'tools/list', {});
  t.equal(gone.status, 404, 'view writing removed');
  t.match(gone.body.error.message, /known views: discovery, code/);

  const config = await runMesh(['config', 'claude', '--view', 'code', '--proxy', proxy], { env });
  t.equal(config.code, 0, config.stderr);
  t.match(config.stdout, `claude mcp add --transport http mesh-code ${proxy}/mcp/code`);
  const unknown = await runMesh(['config', 'claude', '--view', 'nope', '--proxy', proxy], { env });
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /serves no view "nope"; its views: discovery, code/);
});
