import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { freePort, root } from '../helpers/processes.js';
import { processesNaming, runMesh, tearDownMeshes } from '../helpers/mesh-cli.js';

// The mesh CLI's commands that start nothing: validate, import, config claude, --help, usage errors.
t.test('invalid manifests: every error names file:line: field', async (t) => {
  const dir = t.testdir({
    'args.yaml': 'version: 1\nservices:\n  fs:\n    command: python3\n    args: fs_server.py\n',
    'typo.yaml': 'version: 1\nservices:\n  fs:\n    comand: python3\n',
    'name.yaml': 'version: 1\nservices:\n  Bad Name:\n    command: x\n',
    'var.yaml': 'version: 1\nproxy:\n  port: 6001\nservices:\n  fs:\n    command: python3\n    cwd: ${MM_TEST_UNSET_VAR}\n',
    'syntax.yaml': 'version: 1\nservices:\n  fs: [unclosed\n',
    'cwd.yaml': 'version: 1\nservices:\n  ok:\n    command: node\n  fs:\n    command: python3\n    cwd: ./no-such-folder\n',
    'ports.yaml': 'version: 1\nservices:\n  a:\n    command: node\n    port: 5050\n    replicas: 2\n  b:\n    command: node\n    port: 5051\n',
    'many.yaml':
      'version: 1\nproxy: { port: 6101 }\nservices:\n  fs:\n    command: python3\n    cwd: ${MM_TEST_UNSET_VAR}/x\n    port: 6101\n    tags: [a]\n    tag: b\n  web:\n    command: node\n    cwd: ./no-such-folder\n',
    home: {},
  });
  const env = { MESH_HOME: join(dir, 'home') };
  const many = await runMesh(['validate', 'many.yaml'], { env, cwd: dir });
  t.equal(many.code, 1);
  t.match(
    many.stderr,
    /^many\.yaml: 4 problems\nmany\.yaml:6: services\.fs\.cwd: environment variable MM_TEST_UNSET_VAR is not set.*\nmany\.yaml:7: services\.fs\.port: port 6101 is proxy\.port.*\nmany\.yaml:9: services\.fs\.tag: unknown key "tag".*\nmany\.yaml:12: services\.web\.cwd: no such folder/,
    `an unset variable does not hide the others; a service on the proxy port is caught\n${many.stderr}`,
  );
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
  t.same(
    json.problems.map((p) => [p.file, p.line, p.field]),
    [
      ['typo.yaml', 3, 'services.fs.command'],
      ['typo.yaml', 4, 'services.fs.comand'],
    ],
    'validate --json lists the problems (the missing command too)',
  );
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
        events: { type: 'sse', url: 'https://example.com/sse' },
      },
    }),
  });
  const printed = await runMesh(['import', '.mcp.json'], { cwd: dir });
  t.equal(printed.code, 0, printed.stderr);
  const manifest = parse(printed.stdout) as { version: number; services: Record<string, { command?: string; url?: string; args?: string[]; env?: Record<string, string> }> };
  t.equal(manifest.version, 1);
  t.same(
    manifest.services,
    {
      notes: { command: 'node', args: ['notes-server.js'], env: { NOTES_DIR: '/tmp/notes', DEBUG: '1' }, cwd: dir },
      'py-tools': { command: 'python3', args: ['-m', 'tools'], cwd: dir },
      remote: { url: 'https://example.com/mcp' },
    },
    'printed: the folder of the config as an absolute cwd; the http entry as a remote service',
  );
  t.match(printed.stdout, /Not imported:\n#\s+events: not imported: a remote server of type sse/, 'the sse entry is named as not imported');
  t.match(printed.stderr, /^mesh: events: not imported: a remote server of type sse, https:\/\/example\.com\/sse/m);

  const written = await runMesh(['import', '.mcp.json', '-o', 'mesh.yaml'], { cwd: dir });
  t.equal(written.code, 0, written.stderr);
  t.match(written.stderr, /wrote 3 services to mesh\.yaml/);
  t.match(written.stderr, /mesh: events: not imported/, 'the sse entry is named with -o too');
  const text = readFileSync(join(dir, 'mesh.yaml'), 'utf8');
  t.match(text.split('\n')[0], /^# yaml-language-server: \$schema=.*configs\/mesh\.schema\.json$/, 'the $schema comment points at the package schema');
  t.notMatch(text, /cwd:/, 'saved beside the config: no cwd needed');
  const validate = await runMesh(['validate', 'mesh.yaml'], { cwd: dir });
  t.equal(validate.code, 0, `the imported manifest validates\n${validate.stderr}`);
  t.equal((await runMesh(['import', '.mcp.json', '-o', 'mesh.yaml'], { cwd: dir })).code, 1, 'no overwrite without --force');
  const json = JSON.parse((await runMesh(['import', '.mcp.json', '--json'], { cwd: dir })).stdout) as { skipped: { name: string }[]; renamed: { from: string; to: string }[] };
  t.same(json.renamed, [
    { from: 'Notes', to: 'notes' },
    { from: 'py tools', to: 'py-tools' },
  ]);
  t.same(
    json.skipped.map((s) => s.name),
    ['events'],
  );
});

// The issue's case: `mesh import .mcp.json -o configs/mine.yaml` then `mesh up` must run the
// server where Claude Code would (the project root), so its relative script path still opens.
t.test('mesh import -o configs/x.yaml then mesh up: the server runs in the folder of the config', async (t) => {
  const dir = t.testdir({
    'fs_server.py': readFileSync(join(root, 'examples/fs_server.py'), 'utf8'),
    texts: { 'a.txt': 'Lighthouse\n' },
    '.mcp.json': JSON.stringify({ mcpServers: { fs: { command: 'python3', args: ['fs_server.py', '--root', 'texts'] }, broken: { command: 'node', args: 'x.js' } } }),
    configs: {},
    home: {},
  });
  const env = { MESH_HOME: join(dir, 'home') };
  const imported = await runMesh(['import', '.mcp.json', '-o', 'configs/mine.yaml'], { cwd: dir });
  t.equal(imported.code, 0, imported.stderr);
  t.match(imported.stderr, /^mesh: broken: not imported: args: expected a list/m, 'the bad entry is named, fs still imported');
  const file = join(dir, 'configs/mine.yaml');
  const proxyPort = await freePort();
  writeFileSync(file, `${readFileSync(file, 'utf8')}proxy: { port: ${proxyPort}, mcpPort: 0, registry: ./registry.sqlite }\n`);
  tearDownMeshes(t, dir, env, [file]);
  const up = await runMesh(['up', 'configs/mine.yaml', '--detach', '--timeout', '30'], { env, cwd: dir });
  t.equal(up.code, 0, `fs starts from configs/mine.yaml\n${up.stdout}\n${up.stderr}`);
  t.notMatch(up.stdout, /can't open file/);
  const call = await runMesh(['call', '-f', file, 'fs', 'read_text', 'path=a.txt'], { env });
  t.equal(call.code, 0, call.stderr);
  t.match(call.stdout, /Lighthouse/, 'the server reads texts/ of the project root');
});

t.test('config claude, --help of every command, usage errors', async (t) => {
  const config = await runMesh(['config', 'claude', '--proxy', 'http://127.0.0.1:7001', '--json']);
  t.equal(config.code, 0, config.stderr);
  const body = JSON.parse(config.stdout) as { command: string; mcpJson: unknown };
  t.equal(body.command, 'claude mcp add --transport http mesh http://127.0.0.1:7001/mcp');
  t.same(body.mcpJson, { mcpServers: { mesh: { type: 'http', url: 'http://127.0.0.1:7001/mcp' } } });
  const withToken = await runMesh(['config', 'claude', '--proxy', 'http://127.0.0.1:7001'], { env: { MESH_TOKEN: 's3cret' } });
  t.match(withToken.stdout, /claude mcp add --transport http mesh http:\/\/127\.0\.0\.1:7001\/mcp --header "Authorization: Bearer \$\{MESH_TOKEN\}"/, 'name and URL before the variadic --header');
  t.match(withToken.stdout, /"Authorization": "Bearer \$\{MESH_TOKEN\}"/, '.mcp.json reads the token from the environment');
  t.notMatch(withToken.stdout, /s3cret/, 'the token itself is not printed');

  for (const command of [
    [],
    ['up'],
    ['down'],
    ['ls'],
    ['tools'],
    ['call'],
    ['logs'],
    ['config'],
    ['config', 'claude'],
    ['config', 'claude-desktop'],
    ['config', 'cursor'],
    ['config', 'vscode'],
    ['validate'],
    ['import'],
    ['demo'],
    ['service'],
    ['service', 'install'],
    ['service', 'uninstall'],
  ]) {
    const help = await runMesh([...command, '--help']);
    t.equal(help.code, 0, `mesh ${command.join(' ')} --help`);
    t.match(help.stdout, new RegExp(`^Usage: mesh${command.length > 0 ? ` ${command.join(' ')}` : ''} `), `usage of mesh ${command.join(' ')}`);
  }
  // The built commands run as files (npx, npm install -g), and a reader that stops early ends them quietly.
  const bins = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
  for (const [name, file] of Object.entries(bins)) t.ok((statSync(join(root, file)).mode & 0o111) !== 0, `${name} (${file}) is executable after the build`);
  const piped = await execa('sh', ['-c', `"${join(root, bins.mesh!)}" --help | head -n 1`], { reject: false, env: { MESH_PROXY_URL: '' } });
  t.equal(piped.exitCode, 0, 'mesh --help | head');
  t.equal(String(piped.stderr), '', 'a closed pipe is no crash');
  t.match(String(piped.stdout), /^Usage: mesh /);
  const unknown = await runMesh(['frobnicate']);
  t.equal(unknown.code, 2, 'an unknown command is a usage error');
  t.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badArg = await runMesh(['call', 'fs', 'read_text', 'novalue', '--proxy', 'http://127.0.0.1:1']);
  t.equal(badArg.code, 2);
  const badTimeout = await runMesh(['down', '--timeout', 'soon']);
  t.equal(badTimeout.code, 2, 'a --timeout that is not a number is a usage error (not a wait without end)');
  t.match(badTimeout.stderr, /expected a positive number/);
});
