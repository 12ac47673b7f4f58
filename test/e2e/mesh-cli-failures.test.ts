import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { processesNaming, runMesh, tearDownMeshes, writeManifest } from '../helpers/mesh-cli.js';
import { fixture, freePort } from '../helpers/processes.js';
import { waitUntil } from '../../src/stdio/process-group.js';

// Listens on a free loopback port (port 0) until the test ends; returns the port.
async function hold(t: Test, server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

// The issue: proxy.port held by another program gave "using the mesh-proxy already running"
// followed by EADDRINUSE (or, with a server that accepts and never answers, exit 13).
const holders: [string, () => Server | ReturnType<typeof createHttpServer>][] = [
  ['a TCP server that accepts and never answers', () => createServer(() => undefined)],
  ['a TCP server that closes every connection', () => createServer((socket) => socket.end())],
  ['an HTTP server that is not a mesh-proxy', () => createHttpServer((_req, res) => res.end('hello'))],
];
for (const [what, make] of holders) {
  t.test(`proxy.port held by ${what}: one message naming proxy.port`, async (t) => {
    const dir = t.testdir({ home: {} });
    const env = { MESH_HOME: join(dir, 'home') };
    const port = await hold(t, make());
    const file = writeManifest(dir, port, `  fs:\n    command: python3\n    args: [${fixture('echo_server.py')}]\n`);
    tearDownMeshes(t, dir, env, [file]);
    for (const args of [
      ['up', 'mesh.yaml'],
      ['up', 'mesh.yaml', '--detach'],
    ]) {
      const up = await runMesh(args, { env, cwd: dir, timeoutMs: 60_000 });
      t.equal(up.code, 1, `mesh ${args.join(' ')}: exit 1\n${up.stdout}\n${up.stderr}`);
      t.match(
        up.stderr,
        new RegExp(`proxy\\.port ${port} is in use by another program \\(not a mesh-proxy\\); free it or set proxy\\.port in mesh\\.yaml`),
        `mesh ${args.join(' ')}: names proxy.port\n${up.stderr}`,
      );
      t.notMatch(`${up.stdout}${up.stderr}`, /already running|EADDRINUSE/, 'no "already running", no EADDRINUSE');
      // A detached run's supervisor may still be exiting when `up` returns: wait for it, bounded.
      await waitUntil(() => processesNaming(dir).length === 0, 10_000, 100);
      t.same(processesNaming(dir), [], 'nothing was started, nothing is left');
    }
  });
}

t.test('proxy.mcpPort held by another program: one message naming proxy.mcpPort', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const mcpPort = await hold(
    t,
    createServer(() => undefined),
  );
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `version: 1\nproxy: { port: ${await freePort()}, mcpPort: ${mcpPort}, registry: ./registry.sqlite }\nservices:\n  fs:\n    command: python3\n    args: [${fixture('echo_server.py')}]\n`,
  );
  tearDownMeshes(t, dir, env, [file]);
  const up = await runMesh(['up', 'mesh.yaml'], { env, cwd: dir, timeoutMs: 60_000 });
  t.equal(up.code, 1, `${up.stdout}\n${up.stderr}`);
  t.match(up.stderr, new RegExp(`proxy\\.mcpPort ${mcpPort} is in use by another program; free it or set proxy\\.mcpPort in mesh\\.yaml`), up.stderr);
  t.notMatch(`${up.stdout}${up.stderr}`, /EADDRINUSE/);
});

// A crashed service is summed up by the line that names its error: Python's last traceback line,
// Node's `Error:` line above the frames (as a sidecar child and as a native instance).
t.test('a failed service shows the line naming its error, not the last frame', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const file = writeManifest(
    dir,
    await freePort(),
    `  py:
    command: python3
    args: [${fixture('traceback_on_start.py')}]
    restart: { policy: never }
  js:
    command: node
    args: [${fixture('throw-on-start.mjs')}]
    restart: { policy: never }
  jsnative:
    kind: native
    command: node
    args: [${fixture('throw-on-start.mjs')}]
    restart: { policy: never }
`,
  );
  tearDownMeshes(t, dir, env, [file]);
  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 1, `exit 1: the services failed\n${up.stdout}\n${up.stderr}`);
  t.match(
    up.stdout,
    /✗ py\s+failed\s+.*exited with code 1.*stderr: FileNotFoundError: \[Errno 2\] No such file or directory: '\/nonexistent\/mm-fixture-config\.json'/,
    `py: the traceback's last line\n${up.stdout}`,
  );
  t.match(up.stdout, /✗ js\s+failed\s+.*exited with code 1.*stderr: Error: cannot load config \/nonexistent\/mm-fixture\.toml: missing field "token"/, 'js: the Error line');
  t.match(up.stdout, /✗ jsnative\s+failed\s+process exited with code 1: Error: cannot load config \/nonexistent\/mm-fixture\.toml/, 'native: the Error line');
  t.notMatch(up.stdout, /\bat async |Node\.js v\d|File "/, 'no stack frame in the reasons');
});

// validate caught a service on the proxy's port, but `mesh up` started it anyway (it then failed
// with EADDRINUSE deep in its log, or took the port first); up shows it failed and starts the rest.
t.test('mesh up: a service on the proxy port is shown failed, not started; the others start', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const proxyPort = await freePort();
  const file = writeManifest(
    dir,
    proxyPort,
    `  clash:
    command: python3
    args: [${fixture('echo_server.py')}]
    port: ${proxyPort}
  echo:
    command: python3
    args: [${fixture('echo_server.py')}]
`,
  );
  tearDownMeshes(t, dir, env, [file]);
  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 1, `exit 1: a service failed\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, new RegExp(`✗ clash\\s+failed\\s+.*port ${proxyPort} is proxy\\.port`), `clash: named as the proxy's port\n${up.stdout}`);
  t.match(up.stdout, /✓ echo\s+healthy/, 'the other service started');
  t.equal(processesNaming(dir).filter((p) => p.command.includes('--name clash')).length, 0, 'no sidecar was started for clash');
});
