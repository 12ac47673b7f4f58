import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { MeshError } from '../../src/errors.js';
import { checkManifestPaths } from '../../src/manifest/check-paths.js';
import { importMcpConfig, normalizeServiceName } from '../../src/manifest/import.js';
import { interpolate } from '../../src/manifest/interpolate.js';
import { manifestJsonSchemaText } from '../../src/manifest/json-schema.js';
import { inspectManifest, loadManifest, parseManifest, type ManifestProblem } from '../../src/manifest/load.js';
import { checkManifestPorts } from '../../src/manifest/check-ports.js';
import { suggest } from '../../src/manifest/suggest.js';
import { defaultSchemaPath } from '../../src/manifest/write-json-schema.js';

const configs = resolve(import.meta.dirname, '../../configs');
const file = 'configs/x.yaml';

// The MeshError a manifest text is rejected with, and its rendered problem lines.
function rejection(t: Test, text: string, env: Record<string, string> = {}): { error: MeshError; lines: string[]; problems: ManifestProblem[] } {
  try {
    parseManifest(text, file, env);
  } catch (error) {
    t.ok(error instanceof MeshError, 'a MeshError');
    const mesh = error as MeshError;
    t.equal(mesh.code, 'MANIFEST_INVALID');
    const lines = mesh.message.split('\n').filter((line) => line.startsWith(`${file}:`) && /^[^:]+:\d+:/.test(line));
    return { error: mesh, lines, problems: mesh.context.problems as ManifestProblem[] };
  }
  throw new Error('the manifest was accepted');
}

t.test('configs/demo.yaml loads with defaults filled and paths resolved', async (t) => {
  const manifest = await loadManifest(join(configs, 'demo.yaml'), {});
  t.same(Object.keys(manifest.services), ['fs', 'memory', 'cmc']);
  t.equal(manifest.services.cmc?.kind, 'native', 'cmc is a native instance');
  t.same(manifest.proxy, { host: '127.0.0.1', port: 6001, mcpPort: 6000, heartbeatInterval: 30, heartbeatTimeout: 120, deadline: 60 });
  const fs = manifest.services.fs;
  t.equal(fs?.command, 'python3', 'a bare command stays for PATH lookup');
  t.equal(fs?.cwd, configs, 'cwd defaults to the manifest folder');
  t.same(fs?.restart, { policy: 'always', maxCrashes: 5, windowSeconds: 60, backoff: { initialMs: 500, maxMs: 30_000 } });
  t.equal(fs?.replicas, 1);
  t.equal(fs?.enabled, true);
  t.equal(manifest.services.memory?.env.MEMORY_FILE_PATH, '/tmp/mm-demo-memory.jsonl', 'interpolation default');
  t.equal(manifest.source.file, join(configs, 'demo.yaml'));
  t.same(await checkManifestPaths(manifest), [], 'every path of the demo exists');
  const scriptArg = resolve(fs?.cwd ?? '', fs?.args[0] ?? '');
  t.ok((await readFile(scriptArg, 'utf8')).length > 0, 'the fs script resolves from the cwd');
  const first = (await readFile(join(configs, 'demo.yaml'), 'utf8')).split('\n')[0];
  t.equal(first, '# yaml-language-server: $schema=./mesh.schema.json');
});

t.test('configs/factory.yaml loads: eleven services, all disabled on a fresh machine', async (t) => {
  const manifest = await loadManifest(join(configs, 'factory.yaml'), {});
  t.equal(Object.keys(manifest.services).length, 11);
  for (const name of ['c3', 'cmc', 'fs', 'macr']) t.ok(manifest.services[name], name);
  t.equal(manifest.services.c3?.cwd, join(homedir(), 'projects/c3'), '${PROJECTS:-~/projects} expands');
  t.ok(Object.values(manifest.services).every((s) => !s.enabled));
  t.same(await checkManifestPaths(manifest), [], 'disabled services are not checked');
  const withProjects = await loadManifest(join(configs, 'factory.yaml'), { PROJECTS: '/srv/p' });
  t.equal(withProjects.services.macr?.command, '/srv/p/macr/.venv/bin/python');
  t.equal(withProjects.services.fs?.args[2], join(homedir(), 'manuscripts'), 'a leading ~/ in args expands');
});

t.test('wrong type for args names file, line and field', async (t) => {
  const text = ['version: 1', 'services:', '  fs:', '    command: python3', '    args: fs_server.py', ''].join('\n');
  const { lines, problems } = rejection(t, text);
  t.match(lines[0], /^configs\/x\.yaml:5: services\.fs\.args: expected a list of strings/);
  t.same(problems[0], { file, line: 5, field: 'services.fs.args', message: problems[0]?.message });
  const item = rejection(t, ['version: 1', 'services:', '  fs:', '    command: x', '    args:', '      - a', '      - 7', ''].join('\n'));
  t.match(item.lines[0], /^configs\/x\.yaml:7: services\.fs\.args\[1\]: expected a string/);
});

t.test('an unknown key is named, with a hint for a near miss', async (t) => {
  const { lines } = rejection(t, ['version: 1', 'services:', '  fs:', '    command: x', '    arg: [a]', ''].join('\n'));
  t.same(lines, ['configs/x.yaml:5: services.fs.arg: unknown key "arg" (did you mean "args"?)']);
  const far = rejection(t, ['version: 1', 'proxy:', '  colour: blue', ''].join('\n'));
  t.match(far.lines[0], /^configs\/x\.yaml:3: proxy\.colour: unknown key "colour" \(known keys: host, port/);
  const top = rejection(t, ['version: 1', 'service: {}', ''].join('\n'));
  t.match(top.lines[0], /^configs\/x\.yaml:2: service: unknown key "service" \(did you mean "services"\?\)/);
});

t.test('the limits of the proxy and of a service parse; bad values name file, line and field', async (t) => {
  const text = [
    'version: 1',
    'proxy:',
    '  drainTimeout: 5',
    '  sessionIdleTimeout: 600',
    '  maxSessions: 50',
    '  maxResponseBytes: 1048576',
    'services:',
    '  fs:',
    '    command: x',
    '    drainTimeout: 2.5',
    '    sessionIdleTimeout: 60',
    '    maxSessions: 10',
    '    maxMessageBytes: 65536',
    '',
  ].join('\n');
  const manifest = parseManifest(text, file, {});
  t.match(manifest.proxy, { drainTimeout: 5, sessionIdleTimeout: 600, maxSessions: 50, maxResponseBytes: 1_048_576 });
  t.match(manifest.services.fs, { drainTimeout: 2.5, sessionIdleTimeout: 60, maxSessions: 10, maxMessageBytes: 65_536 });
  const bad = [
    'version: 1',
    'proxy:',
    '  drainTimeout: 0',
    '  maxSessions: 1.5',
    '  maxResponseBytes: lots',
    'services:',
    '  fs:',
    '    command: x',
    '    sessionIdleTimeout: -1',
    '    maxMessageBytes: 0',
    '',
  ].join('\n');
  t.same(rejection(t, bad).lines, [
    'configs/x.yaml:3: proxy.drainTimeout: expected a positive number of seconds',
    'configs/x.yaml:4: proxy.maxSessions: expected a whole number, got number 1.5',
    'configs/x.yaml:5: proxy.maxResponseBytes: expected a whole number, got the string "lots"',
    'configs/x.yaml:9: services.fs.sessionIdleTimeout: expected a positive number of seconds',
    'configs/x.yaml:10: services.fs.maxMessageBytes: expected a whole number above 0',
  ]);
});

t.test('a bad service name is reported on its line', async (t) => {
  const { lines } = rejection(t, ['version: 1', 'services:', '  ok:', '    command: x', '  My Server:', '    command: y', ''].join('\n'));
  t.match(lines[0], /^configs\/x\.yaml:5: services\.My Server: a service name is 1-63 lowercase letters/);
});

t.test('a missing command points at its service', async (t) => {
  const { lines } = rejection(t, ['version: 1', 'services:', '  fs:', '    args: [a]', ''].join('\n'));
  t.same(lines, ['configs/x.yaml:3: services.fs.command: required field is missing (or url: for a remote Streamable HTTP server)']);
});

t.test('several problems are all reported, in line order', async (t) => {
  const { error, lines } = rejection(t, ['version: 2', 'services:', '  fs:', '    command: x', '    replicas: 0', '    restart: { policy: sometimes }', ''].join('\n'));
  t.match(error.message, /^configs\/x\.yaml: 3 problems\n/);
  t.same(
    lines.map((line) => line.split(':').slice(0, 3).join(':')),
    ['configs/x.yaml:1: version', 'configs/x.yaml:5: services.fs.replicas', 'configs/x.yaml:6: services.fs.restart.policy'],
  );
});

t.test('YAML syntax errors carry their line', async (t) => {
  const { lines } = rejection(t, ['version: 1', 'services:', '  fs:', '    command: [x', ''].join('\n'));
  t.match(lines[0], /^configs\/x\.yaml:\d+: YAML syntax error: /);
  const duplicate = rejection(t, ['version: 1', 'services:', '  fs:', '    command: x', '    command: y', ''].join('\n'));
  t.match(duplicate.lines[0], /^configs\/x\.yaml:5: YAML syntax error: Map keys must be unique/);
  t.match(rejection(t, '').lines[0], /^configs\/x\.yaml:1: version: required field is missing/, 'an empty file');
});

t.test('an unset ${VAR} without default names the variable and the line', async (t) => {
  const { lines } = rejection(t, ['version: 1', 'services:', '  fs:', '    command: x', '    cwd: ${FS_HOME}/src', ''].join('\n'));
  t.match(lines[0], /^configs\/x\.yaml:5: services\.fs\.cwd: environment variable FS_HOME is not set/);
  const inList = rejection(t, ['version: 1', 'services:', '  fs:', '    command: x', '    args: [a, "${TOKEN}"]', ''].join('\n'));
  t.match(inList.lines[0], /^configs\/x\.yaml:5: services\.fs\.args\[1\]: environment variable TOKEN is not set/);
});

t.test('env keys must be variable names; NUL is refused in env values, args and command', async (t) => {
  const text = ['version: 1', 'services:', '  fs:', '    command: x', '    env:', '      "A=B": 1', '      "1X": y', '      OK: "a\\0b"', '    args: ["p\\0q"]', ''].join('\n');
  const { lines } = rejection(t, text);
  t.match(lines, [
    /^configs\/x\.yaml:6: services\.fs\.env\.A=B: an environment variable name is letters, digits and "_"/,
    /^configs\/x\.yaml:7: services\.fs\.env\.1X: an environment variable name/,
    /^configs\/x\.yaml:8: services\.fs\.env\.OK: contains a NUL character/,
    /^configs\/x\.yaml:9: services\.fs\.args\[0\]: contains a NUL character/,
  ]);
  t.equal(lines.length, 4);
  const fine = parseManifest(['version: 1', 'services:', '  fs:', '    command: x', '    env: { _A1: "x=y", lower_case: 2 }', ''].join('\n'), file, {});
  t.same(fine.services.fs?.env, { _A1: 'x=y', lower_case: '2' }, 'names with _ and lowercase, values with "=" pass');
});

t.test('inspectManifest: an unset ${VAR} does not hide the other problems', async (t) => {
  const text = ['version: 1', 'services:', '  fs:', '    command: ${PY}', '    cwd: ${FS_HOME}', '    comand: x', '    port: 70000', ''].join('\n');
  const { manifest, problems } = inspectManifest(text, file, {});
  t.equal(manifest, undefined, 'no manifest: its shape is wrong');
  t.same(
    problems.map((p) => [p.line, p.field]),
    [
      [4, 'services.fs.command'],
      [5, 'services.fs.cwd'],
      [6, 'services.fs.comand'],
      [7, 'services.fs.port'],
    ],
    'every problem, one per field, in line order',
  );
  t.match(problems[0]?.message, /environment variable PY is not set/, 'the emptied command is reported as its variable, not as empty');
  const shapeOk = inspectManifest(['version: 1', 'services:', '  fs:', '    command: x', '    cwd: ${FS_HOME}', ''].join('\n'), file, {});
  t.ok(shapeOk.manifest, 'the manifest is returned beside an unset variable when its shape is valid');
  t.equal(shapeOk.problems.length, 1);
  const partial = inspectManifest(['version: 1', 'services:', '  fs:', '    command: x', '    tag: typo', '  web:', '    command: y', '    port: nope', ''].join('\n'), file, {});
  t.equal(partial.manifest, undefined);
  t.same(Object.keys(partial.checkable?.services ?? {}), ['fs'], 'content checks still see a service with only an unknown key, not one with a wrong field');
});

t.test('checkManifestPorts: services on the proxy port, the mcpPort, or each other', async (t) => {
  const text = [
    'version: 1',
    'proxy: { port: 6101, mcpPort: 6100 }',
    'services:',
    '  a: { command: x, port: 6101 }',
    '  b: { command: x, port: 6099, replicas: 2 }',
    '  c: { command: x, port: 6200 }',
    '  d: { command: x, port: 6200 }',
    '  e: { command: x, port: 6101, enabled: false }',
    '',
  ].join('\n');
  const problems = checkManifestPorts(parseManifest(text, file, {}));
  t.same(problems, [
    { service: 'a', message: 'port 6101 is proxy.port (the mesh-proxy listens there)' },
    { service: 'b', message: 'port 6100 is proxy.mcpPort (the mesh-proxy listens there) (replicas use port, port+1, ...)' },
    { service: 'd', message: "port 6200 is also c's" },
  ]);
  t.same(
    checkManifestPorts(parseManifest(['version: 1', 'proxy: { port: 6101, mcpPort: 0 }', 'services:', '  a: { command: x, port: 6000 }', ''].join('\n'), file, {})),
    [],
    'mcpPort 0 holds no port',
  );
});

t.test('interpolation: values, defaults, typed plain scalars, $$', async (t) => {
  t.same(interpolate('${A}-${B:-b}-${C:-}-$$X', { A: 'a', C: '' }), { value: 'a-b--$X', unset: [] });
  t.same(interpolate('${MISSING}', {}), { value: '', unset: ['MISSING'] });
  const text = ['version: 1', 'proxy:', '  port: ${PORT:-6101}', 'services:', '  fs:', '    command: ${PY:-python3}', '    args: ["${PORT:-7}", "$${NOT}"]', '    enabled: ${ON:-false}', ''].join(
    '\n',
  );
  const manifest = parseManifest(text, '/m/mesh.yaml', { PY: '/usr/bin/python3.12' });
  t.equal(manifest.proxy.port, 6101, 'an unquoted value becomes a number');
  t.equal(manifest.services.fs?.command, '/usr/bin/python3.12');
  t.same(manifest.services.fs?.args, ['7', '${NOT}'], 'quoted stays a string; $$ escapes');
  t.equal(manifest.services.fs?.enabled, false);
});

t.test('relative paths resolve against the manifest folder', async (t) => {
  const text = [
    'version: 1',
    'proxy: { registry: ./state/registry.sqlite }',
    'services:',
    '  a: { command: ./bin/a, cwd: srv }',
    '  b: { command: ../tools/b, cwd: ../other }',
    '  c: { command: node, cwd: ~/work, args: [./keep.js, ~/x] }',
    '  d: { command: /usr/bin/env, cwd: /abs }',
    '',
  ].join('\n');
  const m = parseManifest(text, '/srv/mesh/configs/mesh.yaml', {});
  t.equal(m.proxy.registry, '/srv/mesh/configs/state/registry.sqlite');
  t.equal(m.services.a?.command, '/srv/mesh/configs/bin/a');
  t.equal(m.services.a?.cwd, '/srv/mesh/configs/srv');
  t.equal(m.services.b?.command, '/srv/mesh/tools/b');
  t.equal(m.services.b?.cwd, '/srv/mesh/other');
  t.equal(m.services.c?.command, 'node');
  t.equal(m.services.c?.cwd, join(homedir(), 'work'));
  t.same(m.services.c?.args, ['./keep.js', join(homedir(), 'x')], 'args stay as written, bar ~/');
  t.equal(m.services.d?.cwd, '/abs');
  t.same(m.source, { file: '/srv/mesh/configs/mesh.yaml', dir: '/srv/mesh/configs' });
});

t.test('loadManifest: an unreadable file is MANIFEST_INVALID', async (t) => {
  await t.rejects(loadManifest('/nonexistent/mesh.yaml'), { code: 'MANIFEST_INVALID', message: /\/nonexistent\/mesh\.yaml: cannot read the manifest \(ENOENT\)/ });
});

t.test('checkManifestPaths reports a missing cwd of an enabled service', async (t) => {
  const dir = t.testdir({});
  const m = parseManifest('version: 1\nservices:\n  a: { command: sh, cwd: ./nope }\n  b: { command: ./nope.sh }\n', join(dir, 'mesh.yaml'), {});
  const problems = await checkManifestPaths(m);
  t.same(
    problems.map((p) => `${p.service}.${p.field}`),
    ['a.cwd', 'b.command'],
  );
});

t.test("checkManifestPaths looks a bare command up on PATH (the service env's PATH first)", async (t) => {
  const dir = t.testdir({ bin: { 'my-server': '#!/bin/sh\n' } });
  const { chmodSync } = await import('node:fs');
  chmodSync(join(dir, 'bin', 'my-server'), 0o755);
  const text = `version: 1\nservices:\n  a: { command: no-such-program-mm }\n  b: { command: my-server }\n  c: { command: my-server, env: { PATH: ${join(dir, 'bin')} } }\n`;
  const problems = await checkManifestPaths(parseManifest(text, join(dir, 'mesh.yaml'), {}), { PATH: '/usr/bin:/bin' });
  t.same(
    problems.map((p) => `${p.service}.${p.field}: ${p.message}`),
    ['a.command: command not found on PATH: no-such-program-mm', 'b.command: command not found on PATH: my-server'],
  );
});

t.test('import of a .mcp.json: stdio entries become services, http ones remote services, sse ones are skipped', async (t) => {
  const json = JSON.stringify({
    mcpServers: {
      'My Notes': { command: 'npx', args: ['-y', '@acme/notes'], env: { NOTES_DIR: '/n', LEVEL: 2 } },
      fs: { type: 'stdio', command: 'python3', args: ['fs_server.py'] },
      remote: { type: 'http', url: 'https://example.com/mcp', headers: { Authorization: 'Bearer ${API_TOKEN}' } },
      events: { type: 'sse', url: 'https://example.com/sse' },
      bare: { url: 'https://example.com/x' },
      broken: { args: ['x'] },
    },
  });
  const result = importMcpConfig(json, '/p/.mcp.json', { outputDir: '/p' });
  t.same(
    result.services,
    {
      'my-notes': { command: 'npx', args: ['-y', '@acme/notes'], env: { NOTES_DIR: '/n', LEVEL: '2' } },
      fs: { command: 'python3', args: ['fs_server.py'] },
      remote: { url: 'https://example.com/mcp', headers: { Authorization: 'Bearer ${API_TOKEN}' } },
      bare: { url: 'https://example.com/x' },
    },
    'no cwd when the manifest lands in the folder of the config; http entries keep url and headers',
  );
  t.same(result.renamed, [{ from: 'My Notes', to: 'my-notes' }]);
  t.same(
    result.skipped.map((s) => [s.name, s.kind]),
    [
      ['events', 'remote'],
      ['broken', 'invalid'],
    ],
  );
  t.match(result.skipped[0]?.reason, /^not imported: a remote server of type sse, https:\/\/example\.com\/sse/);
  t.match(result.skipped[1]?.reason, /no command/);
  const yaml = result.toYaml();
  t.match(yaml, /^# yaml-language-server: \$schema=\.\/mesh\.schema\.json\n/);
  t.match(yaml, /# "My Notes" in \/p\/\.mcp\.json\n\s+my-notes:/);
  t.match(yaml, /# Not imported:\n#\s+events: not imported: a remote server of type sse/);
  const manifest = parseManifest(yaml, '/p/mesh.yaml', { API_TOKEN: 't0k' });
  t.same(Object.keys(manifest.services), ['my-notes', 'fs'], 'the generated text is a valid manifest');
  t.same(manifest.remotes, {
    remote: { url: 'https://example.com/mcp', headers: { authorization: 'Bearer t0k' }, tags: [], enabled: true },
    bare: { url: 'https://example.com/x', headers: {}, tags: [], enabled: true },
  });
  t.equal(manifest.services['my-notes']?.env.LEVEL, '2');
});

t.test('import: each service runs in the folder of its config, wherever the manifest is saved', async (t) => {
  const json = JSON.stringify({ mcpServers: { fs: { command: 'python3', args: ['fs_server.py'] }, tool: { command: './bin/tool', cwd: 'sub' }, abs: { command: 'node', cwd: '/srv/x' } } });
  const saved = importMcpConfig(json, '/proj/.mcp.json', { outputDir: '/proj/configs' });
  t.same(saved.services, { fs: { command: 'python3', args: ['fs_server.py'], cwd: '..' }, tool: { command: '../sub/bin/tool', cwd: '../sub' }, abs: { command: 'node', cwd: '../../srv/x' } });
  const manifest = parseManifest(saved.toYaml(), '/proj/configs/mine.yaml', {});
  t.equal(manifest.services.fs?.cwd, '/proj', 'the manifest runs fs where the client did');
  t.equal(manifest.services.tool?.command, '/proj/sub/bin/tool', 'a ./ command still names the same program');
  t.equal(manifest.services.tool?.cwd, '/proj/sub', 'a relative cwd of the entry is relative to the config');
  const printed = importMcpConfig(json, '/proj/.mcp.json');
  t.equal(printed.services.fs?.cwd, '/proj', 'printed (no output folder known): absolute');
  t.equal(printed.services.tool?.command, '/proj/sub/bin/tool');
});

t.test('import: one bad entry is reported by name, the others are imported', async (t) => {
  const json = JSON.stringify({
    mcpServers: {
      good: { command: 'node', args: ['a.js'] },
      listless: { command: 'node', args: 'a.js' },
      badenv: { command: 'node', env: { 'A=B': '1' } },
      nul: { command: 'node', env: { X: 'a\0b' } },
      notobject: 'node a.js',
    },
  });
  const result = importMcpConfig(json, '/p/.mcp.json', { outputDir: '/p' });
  t.same(Object.keys(result.services), ['good']);
  t.same(
    result.skipped.map((s) => [s.name, s.kind]),
    [
      ['listless', 'invalid'],
      ['badenv', 'invalid'],
      ['nul', 'invalid'],
      ['notobject', 'invalid'],
    ],
  );
  t.match(result.skipped[0]?.reason, /^args: expected a list/);
  t.match(result.skipped[1]?.reason, /^env\.A=B: an environment variable name/);
  t.match(result.skipped[2]?.reason, /^env\.X: contains a NUL/);
  t.doesNotThrow(() => parseManifest(result.toYaml(), '/p/mesh.yaml', {}), 'what was imported validates');
});

t.test('import: Claude Desktop config, name clashes, bad input', async (t) => {
  const desktop = JSON.stringify({ globalShortcut: 'x', mcpServers: { 'Files!': { command: 'node', args: ['a.js'] }, files: { command: 'node' } } });
  const result = importMcpConfig(desktop, 'claude_desktop_config.json');
  t.same(Object.keys(result.services), ['files', 'files-2']);
  t.same(result.renamed, [
    { from: 'Files!', to: 'files' },
    { from: 'files', to: 'files-2' },
  ]);
  t.equal(normalizeServiceName('__Weird.Name__'), 'weird-name');
  t.equal(normalizeServiceName('!!!'), 'server');
  t.throws(() => importMcpConfig('{ nope', 'x.json'), { code: 'MANIFEST_INVALID', message: /^x\.json: not valid JSON/ });
  t.throws(() => importMcpConfig('{"servers": {}}', 'x.json'), { code: 'MANIFEST_INVALID', message: /^x\.json: mcpServers: / });
});

t.test('did-you-mean only for near misses', async (t) => {
  t.equal(suggest('arg', ['args', 'cwd']), 'args');
  t.equal(suggest('comand', ['command', 'cwd']), 'command');
  t.equal(suggest('Env', ['env', 'tags']), 'env');
  t.equal(suggest('colour', ['host', 'port']), undefined);
});

t.test('configs/mesh.schema.json is the one generated from the zod schema', async (t) => {
  t.equal(defaultSchemaPath(), join(configs, 'mesh.schema.json'));
  const committed = await readFile(join(configs, 'mesh.schema.json'), 'utf8');
  t.equal(committed, manifestJsonSchemaText(), 'regenerate with writeManifestJsonSchema() after changing schema.ts');
  const schema = JSON.parse(committed) as { properties: { services: { propertyNames: { pattern: string } } }; additionalProperties: boolean };
  t.equal(schema.properties.services.propertyNames.pattern, '^[a-z0-9][a-z0-9_-]{0,62}$');
  t.equal(schema.additionalProperties, false);
  t.ok(parse(await readFile(join(configs, 'demo.yaml'), 'utf8')), 'demo.yaml is plain YAML');
});
