import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { runMesh, tearDownMeshes, writeManifest } from '../helpers/mesh-cli.js';
import { fixture, freePort, root } from '../helpers/processes.js';

// What `npm start` prints must work when pasted, in the project, where the package's own `mesh`
// bin is not on PATH: each hint of the summary is run as printed, through a shell.
t.test('the hints mesh up prints work as printed inside the project', async (t) => {
  const dir = t.testdir({ home: {} });
  // Offline: npx must find the project's own bin, never fetch a package named "mesh".
  const env = { MESH_HOME: join(dir, 'home'), npm_config_offline: 'true', npm_config_yes: 'false' };
  const file = writeManifest(dir, await freePort(), `  echo:\n    command: python3\n    args: [${fixture('echo_server.py')}]\n`);
  tearDownMeshes(t, dir, env, [file]);
  // PATH without any `mesh`, as under `npm start`.
  const up = await runMesh(['up', file, '--detach'], { env, cwd: root });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const hint = (label: string) => new RegExp(`^\\s+${label}:\\s+(.+?)(?:\\s{3}\\(.*)?$`, 'm').exec(up.stdout)?.[1];
  const hints = ['Claude Code', 'Services', 'A call', 'Stop'].map((label) => [label, hint(label)] as const);
  for (const [label, command] of hints) {
    t.ok(command?.startsWith('npx mesh '), `${label}: "${command}" names a command that exists here`);
    if (command === undefined) continue;
    const run = await execa('sh', ['-c', command], { cwd: root, env: { ...process.env, ...env, MESH_PROXY_URL: '' }, reject: false, timeout: 120_000 });
    t.equal(run.exitCode, 0, `${label}: \`${command}\` works as printed\n${String(run.stdout)}\n${String(run.stderr)}`);
  }
});
