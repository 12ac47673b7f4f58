import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { dist, fixture, freePort, root } from '../helpers/processes.js';
import { pidAlive, processesNaming, runMesh, tearDownMeshes, writeManifest } from '../helpers/mesh-cli.js';

// `mesh up --detach` of four services (a Python sidecar, a Node sidecar, a native instance, and
// one that dies at start), then ls, call, tools, logs, and `mesh down` leaving no process.
t.test('mesh up --detach, ls, call, tools, logs, down', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const proxyPort = await freePort();
  const echoPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const file = writeManifest(
    dir,
    proxyPort,
    `  fs:
    command: python3
    args: [${root}examples/fs_server.py, --root, ${root}examples/texts]
    tags: [python]
  memory:
    command: node
    args: [${root}node_modules/@modelcontextprotocol/server-memory/dist/index.js]
    env: { MEMORY_FILE_PATH: ./memory.jsonl }
  echo:
    kind: native
    command: node
    args: [${dist('test/fixtures/native-echo.js')}]
    port: ${echoPort}
    tags: [native, test]
  broken:
    command: python3
    args: [${fixture('crash_on_start.py')}]
`,
  );

  // Whatever happens, nothing this test started outlives it: mesh down, then anything naming dir.
  tearDownMeshes(t, dir, env, [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 1, `exit 1: one service failed\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, new RegExp(`mesh-proxy started at ${proxyUrl}`), 'up started the proxy');
  for (const name of ['fs', 'memory', 'echo']) t.match(up.stdout, new RegExp(`✓ ${name}\\s+healthy\\s+\\d+ tools`), `${name} reported healthy with its tool count`);
  t.match(up.stdout, /✗ broken\s+failed\s+.*exited with code 3.*fatal: could not open config/, 'broken reported with its reason (exit code and stderr)');
  t.match(up.stdout, /3 of 4 services healthy; not healthy: broken/);

  const again = await runMesh(['up', file], { env });
  t.equal(again.code, 1, 'a second up of a running manifest applies it (nothing changed; broken still failed)');
  t.match(again.stdout, /the mesh is running .*applied the manifest: nothing changed/);

  const ls = await runMesh(['ls', '-f', file, '--json'], { env });
  t.equal(ls.code, 0, ls.stderr);
  const listed = JSON.parse(ls.stdout) as { proxy: string; services: { name: string; status: string; toolCount: number; instances: { kind: string; port: number }[] }[] };
  t.equal(listed.proxy, proxyUrl);
  const byName = new Map(listed.services.map((s) => [s.name, s]));
  for (const name of ['fs', 'memory', 'echo']) t.equal(byName.get(name)?.status, 'healthy', `${name} healthy in ls`);
  t.not(byName.get('broken')?.status, 'healthy', 'broken is listed, not healthy');
  t.equal(byName.get('echo')?.instances[0]?.kind, 'native');
  t.equal(byName.get('echo')?.instances[0]?.port, echoPort, 'the native instance listens on MESH_PORT');
  const table = await runMesh(['ls', '-f', file], { env });
  t.match(table.stdout, /^SERVICE\s+INSTANCES\s+STATUS\s+PORT\s+TOOLS\s+LAST HEARTBEAT\s+CALLS/m, 'plain table when piped');

  const read = await runMesh(['call', '--proxy', proxyUrl, 'fs', 'read_text', 'path=chapter1.txt'], { env });
  t.equal(read.code, 0, read.stderr);
  t.match(read.stdout, /Lighthouse/, 'the tool result is printed');
  const viaEnv = await runMesh(['call', 'fs', 'search_text', '--json', '{"query": "Lighthouse"}'], { env: { ...env, MESH_PROXY_URL: proxyUrl } });
  t.equal(viaEnv.code, 0, `MESH_PROXY_URL finds the proxy; --json carries the arguments\n${viaEnv.stderr}`);
  t.match(viaEnv.stdout, /chapter1\.txt:\d+:/);
  const contract = await runMesh(['call', '-f', file, 'echo', 'env'], { env });
  t.equal(contract.code, 0, contract.stderr);
  t.same(JSON.parse(contract.stdout), { MESH_SERVICE_NAME: 'echo', MESH_PROXY_URL: proxyUrl, MESH_PORT: String(echoPort), MESH_TAGS: 'native,test' }, 'the native env contract');
  const failed = await runMesh(['call', '-f', file, 'echo', 'fail', 'why=testing'], { env });
  t.equal(failed.code, 1, 'a tool error exits 1');
  t.match(failed.stderr, /echo\.fail reported an error: failed on purpose: testing/);
  const missing = await runMesh(['call', '-f', file, 'fs', 'read_text', 'path=no-such-file.txt'], { env });
  t.equal(missing.code, 1, "the fs server's own error is a tool error");
  const nowhere = await runMesh(['call', '--proxy', `http://127.0.0.1:${await freePort()}`, 'fs', 'list_files'], { env });
  t.equal(nowhere.code, 2);
  t.match(nowhere.stderr, /cannot reach the mesh-proxy at .*that URL came from --proxy/);

  const tools = await runMesh(['tools', '-f', file, 'fs'], { env });
  t.equal(tools.code, 0, tools.stderr);
  t.match(tools.stdout, /read_text\n\s+Read a UTF-8 text file[^\n]*\n\s+- path \(string, required\)/);
  const toolsJson = JSON.parse((await runMesh(['tools', '-f', file, 'memory', '--json'], { env })).stdout) as { tools: { name: string }[] };
  t.ok(
    toolsJson.tools.some((tool) => tool.name === 'create_entities'),
    'tools --json',
  );

  const logs = await runMesh(['logs', 'broken', '-n', '50'], { env });
  t.equal(logs.code, 0, logs.stderr);
  t.match(logs.stdout, /fatal: could not open config/, "the broken service's log holds its stderr");
  const fsLog = await runMesh(['logs', 'fs', '-f', file, '-n', '5'], { env });
  t.equal(fsLog.code, 0, fsLog.stderr);
  // execa strips the final newline of stdout.
  const fsLines = fsLog.stdout.split('\n');
  t.equal(fsLines.length, 5, `-n 5 prints exactly 5 lines\n${fsLog.stdout}`);
  // The log only grows, so the 5 lines printed are still in the file, in order, at one place (the
  // last one may have been read while the sidecar host was still writing it: a prefix of its line).
  const [fsRun] = readdirSync(join(dir, 'home', 'runs'));
  const fsFile = readFileSync(join(dir, 'home', 'runs', fsRun ?? '', 'logs', 'fs.log'), 'utf8');
  t.ok(`\n${fsFile}`.includes(`\n${fsLines.join('\n')}`), `they are lines of the fs log (it may hold just those 5)\n--- printed:\n${fsLog.stdout}\n--- file tail:\n${fsFile.slice(-1500)}`);
  t.equal((await runMesh(['logs', 'nope', '-f', file], { env })).code, 1, 'an unknown service in logs exits 1');

  // Every process the run recorded, to check after down.
  const runs = join(dir, 'home', 'runs');
  const [runName] = readdirSync(runs);
  const state = JSON.parse(readFileSync(join(runs, runName ?? '', 'state.json'), 'utf8')) as {
    supervisor: { pid: number };
    proxy: { started: boolean; process?: { pid: number } };
    services: Record<string, { instances: { process?: { pid: number }; child?: { pid: number } }[] }>;
  };
  t.ok(state.proxy.started, 'the run records that it started the proxy');
  const pids = [state.supervisor.pid, state.proxy.process?.pid, ...Object.values(state.services).flatMap((s) => s.instances.flatMap((i) => [i.process?.pid, i.child?.pid]))].filter(
    (pid): pid is number => pid !== undefined,
  );
  // broken's child dies at start, often before a health poll has seen its pid: fs and memory's children are certain.
  t.ok(pids.length >= 8, `supervisor, proxy, 4 sidecar/native processes, 2+ children recorded (${pids.length})`);

  const down = await runMesh(['down', file], { env });
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout, /stopped 4 services .* and the mesh-proxy it started/);
  t.same(pids.filter(pidAlive), [], 'every recorded pid is gone');
  t.same(processesNaming(dir), [], 'no process names the test folder (MESH_HOME is inherited by every child)');
  const after = await runMesh(['ls', '--proxy', proxyUrl], { env });
  t.equal(after.code, 2, 'the proxy no longer answers');
  const twice = await runMesh(['down', file], { env });
  t.equal(twice.code, 0, 'down of a stopped mesh is fine');
  t.match(twice.stdout, /not running/);
});
