import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { dist, fixture, freePort, root } from '../helpers/processes.js';
import { pidAlive, processesNaming, runMesh } from '../helpers/mesh-cli.js';

// `mesh up --detach` of four services (a Python sidecar, a Node sidecar, a native instance, and
// one that dies at start), then ls, call, tools, logs, and `mesh down` leaving no process.
t.test('mesh up --detach, ls, call, tools, logs, down', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home') };
  const proxyPort = await freePort();
  const echoPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const file = join(dir, 'mesh.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    file,
    `version: 1
proxy: { port: ${proxyPort}, mcpPort: 0, registry: ./registry.sqlite }
services:
  fs:
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
  t.teardown(async () => {
    await runMesh(['down', file], { env, timeoutMs: 60_000 });
    for (const p of processesNaming(dir)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  });

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 1, `exit 1: one service failed\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, new RegExp(`mesh-proxy started at ${proxyUrl}`), 'up started the proxy');
  for (const name of ['fs', 'memory', 'echo']) t.match(up.stdout, new RegExp(`✓ ${name}\\s+healthy\\s+\\d+ tools`), `${name} reported healthy with its tool count`);
  t.match(up.stdout, /✗ broken\s+failed\s+.*exited with code 3.*fatal: could not open config/, 'broken reported with its reason (exit code and stderr)');
  t.match(up.stdout, /3 of 4 services healthy; not healthy: broken/);

  const again = await runMesh(['up', file], { env });
  t.equal(again.code, 1, 'a second up of a running manifest refuses');
  t.match(again.stderr, /already running/);

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
  t.equal(missing.code, 1, 'the fs server\'s own error is a tool error');
  const nowhere = await runMesh(['call', '--proxy', `http://127.0.0.1:${await freePort()}`, 'fs', 'list_files'], { env });
  t.equal(nowhere.code, 2);
  t.match(nowhere.stderr, /cannot reach the mesh-proxy at .*that URL came from --proxy/);

  const tools = await runMesh(['tools', '-f', file, 'fs'], { env });
  t.equal(tools.code, 0, tools.stderr);
  t.match(tools.stdout, /read_text\n\s+Read a UTF-8 text file[^\n]*\n\s+- path \(string, required\)/);
  const toolsJson = JSON.parse((await runMesh(['tools', '-f', file, 'memory', '--json'], { env })).stdout) as { tools: { name: string }[] };
  t.ok(toolsJson.tools.some((tool) => tool.name === 'create_entities'), 'tools --json');

  const logs = await runMesh(['logs', 'broken', '-n', '50'], { env });
  t.equal(logs.code, 0, logs.stderr);
  t.match(logs.stdout, /fatal: could not open config/, 'the broken service\'s log holds its stderr');
  const fsLog = await runMesh(['logs', 'fs', '-f', file, '-n', '5'], { env });
  t.ok(fsLog.stdout.trim().split('\n').length <= 5, '-n limits the lines');
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
  t.ok(pids.length >= 9, `supervisor, proxy, 4 sidecar/native processes, 3+ children recorded (${pids.length})`);

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

t.test('invalid manifests: every error names file:line: field', async (t) => {
  const dir = t.testdir({
    'args.yaml': 'version: 1\nservices:\n  fs:\n    command: python3\n    args: fs_server.py\n',
    'typo.yaml': 'version: 1\nservices:\n  fs:\n    comand: python3\n',
    'name.yaml': 'version: 1\nservices:\n  Bad Name:\n    command: x\n',
    'var.yaml': 'version: 1\nproxy:\n  port: 6001\nservices:\n  fs:\n    command: python3\n    cwd: ${MM_TEST_UNSET_VAR}\n',
    'syntax.yaml': 'version: 1\nservices:\n  fs: [unclosed\n',
    'cwd.yaml': 'version: 1\nservices:\n  ok:\n    command: node\n  fs:\n    command: python3\n    cwd: ./no-such-folder\n',
    'ports.yaml': 'version: 1\nservices:\n  a:\n    command: node\n    port: 5050\n    replicas: 2\n  b:\n    command: node\n    port: 5051\n',
    home: {},
  });
  const env = { MESH_HOME: join(dir, 'home') };
  const cases: [string, RegExp][] = [
    ['args.yaml', /args\.yaml:5: services\.fs\.args: expected a list of strings/],
    ['typo.yaml', /typo\.yaml:4: services\.fs\.comand: unknown key "comand" \(did you mean "command"\?\)/],
    ['name.yaml', /name\.yaml:3: services\.Bad Name: a service name is/],
    ['var.yaml', /var\.yaml:7: services\.fs\.cwd: environment variable MM_TEST_UNSET_VAR is not set/],
    ['syntax.yaml', /syntax\.yaml:\d+: YAML syntax error/],
    ['cwd.yaml', /cwd\.yaml:7: services\.fs\.cwd: no such folder: .*no-such-folder/],
    ['ports.yaml', /ports\.yaml:9: services\.b\.port: port 5051 is also a's/],
  ];
  for (const [name, expected] of cases) {
    const result = await runMesh(['validate', join(dir, name)], { env, cwd: dir });
    t.equal(result.code, 1, `${name}: exit 1`);
    t.match(result.stderr, expected, `${name}: ${result.stderr.trim()}`);
  }
  const json = JSON.parse((await runMesh(['validate', 'typo.yaml', '--json'], { env, cwd: dir })).stdout) as { valid: boolean; problems: { file: string; line: number; field: string }[] };
  t.same(json.problems.map((p) => [p.file, p.line, p.field]), [['typo.yaml', 3, 'services.fs.command'], ['typo.yaml', 4, 'services.fs.comand']], 'validate --json lists the problems (the missing command too)');
  const up = await runMesh(['up', 'args.yaml'], { env, cwd: dir });
  t.equal(up.code, 1, 'up of an invalid manifest exits 1 and starts nothing');
  t.match(up.stderr, /args\.yaml:5: services\.fs\.args: expected a list of strings/);
  t.same(processesNaming(dir), [], 'nothing was started');
});

t.test('validate of the shipped configs', async (t) => {
  const demo = await runMesh(['validate', join(root, 'configs/demo.yaml')]);
  t.equal(demo.code, 0, demo.stderr);
  t.match(demo.stdout, /valid; services: 3 enabled \(fs, memory, cmc\)/);
  const factory = await runMesh(['validate', join(root, 'configs/factory.yaml')]);
  t.equal(factory.code, 0, factory.stderr);
  t.match(factory.stdout, /11 disabled/);
});

t.test('mesh import of a .mcp.json', async (t) => {
  const dir = t.testdir({
    '.mcp.json': JSON.stringify({
      mcpServers: {
        Notes: { command: 'node', args: ['notes-server.js'], env: { NOTES_DIR: '/tmp/notes', DEBUG: 1 } },
        'py tools': { command: 'python3', args: ['-m', 'tools'] },
        remote: { type: 'http', url: 'https://example.com/mcp' },
      },
    }),
  });
  const printed = await runMesh(['import', '.mcp.json'], { cwd: dir });
  t.equal(printed.code, 0, printed.stderr);
  const manifest = parse(printed.stdout) as { version: number; services: Record<string, { command: string; args?: string[]; env?: Record<string, string> }> };
  t.equal(manifest.version, 1);
  t.same(manifest.services, {
    notes: { command: 'node', args: ['notes-server.js'], env: { NOTES_DIR: '/tmp/notes', DEBUG: '1' } },
    'py-tools': { command: 'python3', args: ['-m', 'tools'] },
  });
  t.match(printed.stdout, /Not imported:\n#\s+remote: remote server/, 'the remote entry is named as skipped');
  t.match(printed.stderr, /skipped remote/);

  const written = await runMesh(['import', '.mcp.json', '-o', 'mesh.yaml'], { cwd: dir });
  t.equal(written.code, 0, written.stderr);
  t.match(written.stderr, /wrote 2 services to mesh\.yaml/);
  const text = readFileSync(join(dir, 'mesh.yaml'), 'utf8');
  t.match(text.split('\n')[0], /^# yaml-language-server: \$schema=.*configs\/mesh\.schema\.json$/, 'the $schema comment points at the package schema');
  const validate = await runMesh(['validate', 'mesh.yaml'], { cwd: dir });
  t.equal(validate.code, 0, `the imported manifest validates\n${validate.stderr}`);
  t.equal((await runMesh(['import', '.mcp.json', '-o', 'mesh.yaml'], { cwd: dir })).code, 1, 'no overwrite without --force');
  const json = JSON.parse((await runMesh(['import', '.mcp.json', '--json'], { cwd: dir })).stdout) as { skipped: { name: string }[]; renamed: { from: string; to: string }[] };
  t.same(json.renamed, [{ from: 'Notes', to: 'notes' }, { from: 'py tools', to: 'py-tools' }]);
  t.same(json.skipped.map((s) => s.name), ['remote']);
});

t.test('config claude, --help of every command, usage errors', async (t) => {
  const config = await runMesh(['config', 'claude', '--proxy', 'http://127.0.0.1:7001', '--json']);
  t.equal(config.code, 0, config.stderr);
  const body = JSON.parse(config.stdout) as { command: string; mcpJson: unknown };
  t.equal(body.command, 'claude mcp add --transport http mesh http://127.0.0.1:7001/mcp');
  t.same(body.mcpJson, { mcpServers: { mesh: { type: 'http', url: 'http://127.0.0.1:7001/mcp' } } });
  const withToken = await runMesh(['config', 'claude', '--proxy', 'http://127.0.0.1:7001'], { env: { MESH_TOKEN: 's3cret' } });
  t.match(withToken.stdout, /claude mcp add --transport http --header 'Authorization: Bearer s3cret' mesh http:\/\/127\.0\.0\.1:7001\/mcp/);
  t.match(withToken.stdout, /"Authorization": "Bearer s3cret"/);

  for (const command of [[], ['up'], ['down'], ['ls'], ['tools'], ['call'], ['logs'], ['config'], ['config', 'claude'], ['validate'], ['import']]) {
    const help = await runMesh([...command, '--help']);
    t.equal(help.code, 0, `mesh ${command.join(' ')} --help`);
    t.match(help.stdout, new RegExp(`^Usage: mesh${command.length > 0 ? ` ${command.join(' ')}` : ''} `), `usage of mesh ${command.join(' ')}`);
  }
  const unknown = await runMesh(['frobnicate']);
  t.equal(unknown.code, 2, 'an unknown command is a usage error');
  t.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badArg = await runMesh(['call', 'fs', 'read_text', 'novalue', '--proxy', 'http://127.0.0.1:1']);
  t.equal(badArg.code, 2);
});
