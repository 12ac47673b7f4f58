import t from 'tap';
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { Command } from 'commander';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/index.js';
import { parseCallArgs } from '../../sidecar/mesh/call-args.js';
import { claudeConfig } from '../../sidecar/mesh/commands/config.js';
import { logTail, tailLines } from '../../sidecar/mesh/log-files.js';
import { CliError } from '../../sidecar/mesh/errors.js';
import { classify, serviceVerdict } from '../../sidecar/mesh/orchestrator/classify.js';
import { errorLine } from '../../sidecar/mesh/orchestrator/error-line.js';
import { lastLines } from '../../src/stdio/stderr-tail.js';
import { serviceLine } from '../../sidecar/mesh/orchestrator/display.js';
import { planLaunches } from '../../sidecar/mesh/orchestrator/plan.js';
import { exampleCall } from '../../sidecar/mesh/orchestrator/summary.js';
import { meshInvocation } from '../../sidecar/mesh/invocation.js';
import { outputMode, table, visibleLength } from '../../sidecar/mesh/output.js';
import { manifestProxyUrl, resolveProxy } from '../../sidecar/mesh/proxy-url.js';

const schema = { properties: { path: { type: 'string' }, limit: { type: 'integer' }, ratio: { type: 'number' }, deep: { type: 'boolean' }, tags: { type: 'array' } } };

t.test('call arguments: k=v typed by the tool schema, k:=json, --json object', async (t) => {
  t.same(parseCallArgs(['path=3', 'limit=5', 'ratio=0.5', 'deep=true', 'tags=["a"]'], undefined, schema), { path: '3', limit: 5, ratio: 0.5, deep: true, tags: ['a'] });
  t.same(parseCallArgs(['n=5', 's=hello', 'x:={"a":1}'], undefined), { n: 5, s: 'hello', x: { a: 1 } }, 'without a schema, JSON-looking values are parsed');
  t.same(parseCallArgs(['path=b.txt'], '{"path": "a.txt", "limit": 2}', schema), { path: 'b.txt', limit: 2 }, 'pairs override --json keys');
  t.same(parseCallArgs(['text=a=b'], undefined, schema), { text: 'a=b' }, 'only the first = splits');
  t.throws(() => parseCallArgs(['limit=2.5'], undefined, schema), CliError, 'an integer must be whole');
  t.throws(() => parseCallArgs(['deep=yes'], undefined, schema), /expected true or false/);
  t.throws(() => parseCallArgs(['novalue'], undefined), /write KEY=VALUE/);
  t.throws(() => parseCallArgs([], '[1]'), /expected a JSON object/);
});

t.test('proxy lookup: --proxy, then -f FILE, then MESH_PROXY_URL, then the default', async (t) => {
  const manifest = { file: 'm.yaml', proxy: { host: '0.0.0.0', port: 7100 } };
  const env = { MESH_PROXY_URL: 'http://127.0.0.1:7200/' };
  t.match(resolveProxy({ flag: 'http://h:1/', manifest }, env), { url: 'http://h:1', source: 'flag' });
  t.match(resolveProxy({ manifest }, env), { url: 'http://127.0.0.1:7100', source: 'manifest', from: 'm.yaml (proxy section)' });
  t.match(resolveProxy({}, env), { url: 'http://127.0.0.1:7200', source: 'env' });
  t.match(resolveProxy({}, {}), { url: 'http://127.0.0.1:6001', source: 'default' });
  t.equal(manifestProxyUrl({ host: '::1', port: 6001 }), 'http://[::1]:6001');
});

t.test('classify: exit, child crash, registration, timeout', async (t) => {
  const listed = { name: 'fs', kind: 'sidecar' as const, url: 'http://127.0.0.1:5000/mcp', port: 5000, status: 'healthy', state: 'ready', toolCount: 5 };
  t.same(classify({ listed, elapsedMs: 100, timeoutMs: 1000 }), { status: 'healthy', tools: 5 });
  t.match(classify({ exited: { description: 'exited with code 1', logTail: 'a\nError: boom\n' }, elapsedMs: 100, timeoutMs: 1000 }), {
    status: 'failed',
    reason: 'process exited with code 1: Error: boom',
  });
  t.match(
    classify({ exited: { description: 'exited with code 1', logTail: 'starting\nbye\n' }, elapsedMs: 100, timeoutMs: 1000 }),
    { status: 'failed', reason: 'process exited with code 1: starting | bye' },
    'no error line: the last lines',
  );
  t.match(classify({ listed: { ...listed, status: 'restarting' }, health: { state: 'restarting', lastError: 'exited with code 3; stderr: fatal' }, elapsedMs: 1, timeoutMs: 1000 }), {
    status: 'failed',
    reason: 'exited with code 3; stderr: fatal (retrying)',
  });
  t.same(classify({ elapsedMs: 10, timeoutMs: 1000 }), { status: 'starting' });
  t.match(classify({ elapsedMs: 2000, timeoutMs: 1000 }), { status: 'failed', reason: 'not registered with the proxy within 1 s' });
  t.match(
    serviceVerdict([
      { status: 'healthy', tools: 2 },
      { status: 'failed', reason: 'x' },
    ]),
    { status: 'failed', reason: '1/2 replicas healthy; x' },
  );
  t.match(serviceVerdict([{ status: 'healthy', tools: 2 }, { status: 'starting' }]), { status: 'starting' });
});

const pythonTraceback = [
  'Traceback (most recent call last):',
  '  File "/srv/fs_server.py", line 16, in <module>',
  '    main()',
  '  File "/srv/fs_server.py", line 8, in load_config',
  '    with open(path) as f:',
  '         ^^^^^^^^^^',
  "FileNotFoundError: [Errno 2] No such file or directory: '/etc/x.json'",
].join('\n');
const nodeStack = [
  'file:///srv/server.mjs:4',
  '  throw new Error(`cannot load config ${path}: missing field`);',
  '        ^',
  '',
  'Error: cannot load config /etc/x.toml: missing field',
  '    at loadConfig (file:///srv/server.mjs:4:9)',
  '    at file:///srv/server.mjs:6:1',
  '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
  '    at async ModuleLoader.import (node:internal/modules/esm/loader:606:24)',
  '    at async asyncRunEntryPointWithESMLoader (node:internal/modules/run_main:117:5)',
  '',
  'Node.js v20.20.2',
].join('\n');

t.test('errorLine: the line naming the error, not the last frame', async (t) => {
  t.equal(errorLine(pythonTraceback), "FileNotFoundError: [Errno 2] No such file or directory: '/etc/x.json'", 'Python: the last line');
  t.equal(errorLine(nodeStack), 'Error: cannot load config /etc/x.toml: missing field', 'Node: the Error line before the frames');
  const chained = `${pythonTraceback}\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "/srv/a.py", line 3, in <module>\n    raise RuntimeError("config missing")\nRuntimeError: config missing`;
  t.equal(errorLine(chained), 'RuntimeError: config missing', 'Python, chained: the final exception');
  t.equal(
    errorLine('TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n    at open (node:fs:1:1)'),
    'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string',
  );
  t.equal(errorLine('loading\nfatal: could not open config /x.toml\n'), 'fatal: could not open config /x.toml', 'a plain error message');
  t.equal(errorLine('starting\nbye\n'), undefined, 'nothing that looks like an error');
});

t.test('classify: a crashed child is summed up by its error line', async (t) => {
  const listed = { name: 'js', kind: 'sidecar' as const, url: 'http://127.0.0.1:5000/mcp', port: 5000, status: 'restarting', state: 'restarting', toolCount: 0 };
  // What the sidecar reports: lastError quotes the last 5 stderr lines, the full tail is in lastExit.
  const lastError = `js: the server exited with code 1 while handling initialize; stderr: ${lastLines(nodeStack, 5)}`;
  const verdict = classify({ listed, health: { state: 'restarting', lastError, lastExit: { description: 'exited with code 1', stderrTail: nodeStack } }, elapsedMs: 1, timeoutMs: 1000 });
  t.equal(verdict.reason, 'js: the server exited with code 1 while handling initialize; stderr: Error: cannot load config /etc/x.toml: missing field (retrying)');
  const python = classify({ health: { state: 'exited', lastExit: { description: 'exited with code 1', stderrTail: pythonTraceback } }, elapsedMs: 1, timeoutMs: 1000 });
  t.equal(python.reason, "the server exited with code 1; stderr: FileNotFoundError: [Errno 2] No such file or directory: '/etc/x.json' (not restarted: restart policy)");
  const native = classify({ exited: { description: 'exited with code 1', logTail: nodeStack }, elapsedMs: 1, timeoutMs: 1000 });
  t.equal(native.reason, 'process exited with code 1: Error: cannot load config /etc/x.toml: missing field');
});

t.test('launch plan: sidecar argv and the native env contract', async (t) => {
  const dir = t.testdir({});
  const manifest = parseManifest(
    'version: 1\nservices:\n  fs:\n    command: python3\n    args: [s.py]\n    env: { SECRET: x }\n    tags: [py]\n    replicas: 2\n    port: 5010\n  cmc:\n    kind: native\n    command: node\n    args: [cmc.js]\n    tags: [native, demo]\n  off:\n    command: x\n    enabled: false\n',
    join(dir, 'mesh.yaml'),
    {},
  );
  const launches = planLaunches(manifest, { proxyUrl: 'http://127.0.0.1:7000', node: '/usr/bin/node', sidecarScript: '/x/sidecar/cli.js', token: 'tok' });
  t.same(
    launches.map((l) => `${l.service}.${l.replica}:${l.kind}`),
    ['fs.0:sidecar', 'fs.1:sidecar', 'cmc.0:native'],
    'disabled services are left out',
  );
  const [fs0, fs1, cmc] = launches;
  t.equal(fs0?.command, '/usr/bin/node');
  t.match(fs0?.args.join(' '), /^(--[a-z-]+=\S+ )*\/x\/sidecar\/cli\.js --name fs --proxy http:\/\/127\.0\.0\.1:7000 --port 5010 .* --tag py -- python3 s\.py$/);
  t.match(fs1?.args.join(' '), /--port 5011/, 'replicas take port+i');
  t.notOk(fs0?.args.join(' ').includes('SECRET'), 'env is not on the command line');
  t.same(fs0?.env, { SECRET: 'x' });
  t.same(cmc?.env, { MESH_SERVICE_NAME: 'cmc', MESH_PROXY_URL: 'http://127.0.0.1:7000', MESH_TAGS: 'native,demo', MESH_DEADLINE: '60', MESH_HEARTBEAT: '30', MESH_TOKEN: 'tok' });
  t.equal(cmc?.command, 'node');
  t.same(cmc?.args, ['cmc.js']);
});

t.test('launch plan: sidecars share the host unless isolate: true', async (t) => {
  const dir = t.testdir({});
  const manifest = parseManifest(
    'version: 1\nservices:\n  fs:\n    command: python3\n    args: [s.py]\n    env: { SECRET: x }\n    replicas: 2\n    port: 5010\n    deadline: 5\n  iso:\n    command: python3\n    isolate: true\n',
    join(dir, 'mesh.yaml'),
    {},
  );
  const options = { proxyUrl: 'http://127.0.0.1:7000', node: '/usr/bin/node', sidecarScript: '/x/sidecar/cli.js', token: 'tok' };
  const [fs0, fs1, iso] = planLaunches(manifest, options);
  t.match(fs0?.hosted, { name: 'fs', command: 'python3', args: ['s.py'], env: { SECRET: 'x' }, port: 5010, proxy: ['http://127.0.0.1:7000'], token: 'tok', deadlineMs: 5000 });
  t.equal(fs1?.hosted?.port, 5011, 'replicas take port+i in the host too');
  t.equal(iso?.hosted, undefined, 'isolate: true runs its own mesh-sidecar');
  t.equal(iso?.kind, 'sidecar');
  t.ok(
    planLaunches(manifest, { ...options, shareHost: false }).every((l) => l.hosted === undefined),
    'shareHost: false isolates every sidecar',
  );
});

t.test('output: tables align coloured cells, plain when piped', async (t) => {
  const out = { color: true };
  const text = table(
    ['NAME', 'STATUS'],
    [
      ['fs', '\x1b[32mhealthy\x1b[0m'],
      ['memory', 'failed'],
    ],
    out,
  );
  const lines = text.split('\n');
  t.equal(visibleLength(lines[0] ?? ''), 'NAME    STATUS'.length);
  t.match(lines[1], /^fs {6}/);
  t.same(outputMode({}, { isTTY: false } as NodeJS.WriteStream, {}), { tty: false, color: false, json: false, columns: 80 });
  t.match(outputMode({}, { isTTY: true, columns: 120 } as NodeJS.WriteStream, { NO_COLOR: '1' }), { tty: true, color: false });
  t.equal(
    serviceLine('fs', { kind: 'sidecar', status: 'healthy', tools: 5, instances: [{ replica: 0, log: '', status: 'healthy', restarts: 0, port: 5000 }] }, 8, { color: false }),
    '  ✓ fs        healthy   5 tools, port 5000',
  );
});

// Claude Code's `claude mcp add` as its --help documents it (commander, like Claude Code itself):
// `[options] <name> <commandOrUrl> [args...]` with a variadic -H/--header.
function claudeMcpAdd(): Command {
  return new Command('add')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .argument('<name>')
    .argument('<commandOrUrl>')
    .argument('[args...]')
    .option('-s, --scope <scope>')
    .option('-t, --transport <transport>')
    .option('-e, --env <env...>')
    .option('-H, --header <header...>');
}

t.test("config claude with a token: a real shell and Claude Code's argument parser read the command as meant", async (t) => {
  const config = claudeConfig('http://127.0.0.1:6001', 'mesh', true, undefined);
  t.equal(config.command, 'claude mcp add --transport http mesh http://127.0.0.1:6001/mcp --header "Authorization: Bearer ${MESH_TOKEN}"');
  t.notMatch(JSON.stringify(config), /s3cret/, 'the token is not in what is printed');
  t.same(
    config.mcpJson,
    { mcpServers: { mesh: { type: 'http', url: 'http://127.0.0.1:6001/mcp', headers: { Authorization: 'Bearer ${MESH_TOKEN}' } } } },
    '.mcp.json reads the token from the environment',
  );
  // The words the shell hands to `claude`, with MESH_TOKEN set as the user has it.
  const argv = execFileSync('sh', ['-c', `set -- ${config.command.replace(/^claude mcp add /, '')}; printf '%s\\0' "$@"`], {
    env: { PATH: process.env.PATH ?? '', MESH_TOKEN: 's3cret' },
    encoding: 'utf8',
  })
    .split('\0')
    .slice(0, -1);
  const add = claudeMcpAdd();
  add.parse(argv, { from: 'user' });
  t.same(add.args, ['mesh', 'http://127.0.0.1:6001/mcp'], 'name and URL reach Claude Code as its arguments');
  t.same(add.opts(), { transport: 'http', header: ['Authorization: Bearer s3cret'] }, 'one header, with the token from the environment');
});

t.test('meshInvocation: `mesh` only when PATH leads to this CLI, else `npx mesh`', async (t) => {
  const dir = t.testdir({ pkg: { 'cli.js': '' }, other: { mesh: '' }, global: {}, empty: {} });
  symlinkSync(join(dir, 'pkg/cli.js'), join(dir, 'global/mesh'));
  const self = join(dir, 'pkg/cli.js');
  t.equal(meshInvocation(`${join(dir, 'empty')}:${join(dir, 'global')}`, self), 'mesh', 'a global install (a link to this CLI)');
  t.equal(meshInvocation(join(dir, 'empty'), self), 'npx mesh', 'no mesh on PATH (npm start in this package)');
  t.equal(meshInvocation(`${join(dir, 'other')}:${join(dir, 'global')}`, self), 'npx mesh', 'another mesh comes first on PATH');
});

t.test('config claude, example call, log tail', async (t) => {
  const config = claudeConfig('http://127.0.0.1:6001', 'mesh', false, 'project');
  t.equal(config.command, 'claude mcp add --transport http mesh http://127.0.0.1:6001/mcp --scope project');
  t.equal(
    exampleCall('fs', [{ name: 'read_text', inputSchema: { required: ['path'], properties: { path: { type: 'string' } } } }], '', 'mesh'),
    "mesh call fs read_text 'path=<string>'",
    'a text placeholder is quoted for the shell',
  );
  t.equal(
    exampleCall('calc', [{ name: 'add', inputSchema: { required: ['a', 'on', 'xs'], properties: { a: { type: 'integer' }, on: { type: 'boolean' }, xs: { type: 'array' } } } }], '', 'mesh'),
    "mesh call calc add a=1 on=true xs:='[]'",
    'other types get sample values',
  );
  t.equal(exampleCall('fs', [{ name: 'read_text', inputSchema: { required: ['path'] } }, { name: 'list_files' }], '-f m.yaml', 'npx mesh'), 'npx mesh call -f m.yaml fs list_files');
  const dir = t.testdir({ 'a.log': 'one\ntwo\nthree\n' });
  t.same(tailLines(join(dir, 'a.log'), 2), { text: 'two\nthree\n', size: 14 });
  t.same(tailLines(join(dir, 'a.log'), 0), { text: '', size: 14 });
  const restarted = join(t.testdir({ 'b.log': '\n=== start 1\nold\n\n=== start 2\nnew 1\nnew 2\n' }), 'b.log');
  t.equal(logTail(restarted), 'new 1\nnew 2\n', 'logTail: from the last start marker on');
  t.equal(logTail(restarted, 8), '1\nnew 2\n', 'logTail: at most the last bytes');
  t.equal(logTail(join(dir, 'missing.log')), '', 'logTail: empty when unreadable');
});
