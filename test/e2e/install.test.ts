// A real install: the packed tarball, installed with `npm install -g` into a temporary prefix, gives
// mesh, mesh-proxy and mesh-sidecar that run the shipped demo from a folder outside the checkout.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { writeBenchManifest } from '../bench/demo-manifest.js';
import { freePort, pollJson, root } from '../helpers/processes.js';
import { processesNaming } from '../helpers/mesh-cli.js';

t.setTimeout(300_000);
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mm-install-')));
const prefix = join(dir, 'prefix');
const elsewhere = join(dir, 'elsewhere');
mkdirSync(elsewhere);
const env = { MESH_HOME: join(dir, 'home'), MESH_PROXY_URL: '', MESH_TOKEN: '', NO_COLOR: '1', MEMORY_FILE_PATH: join(dir, 'memory.jsonl') };
const bin = (name: string) => join(prefix, 'bin', name);
const mesh = (args: string[]) => execa(bin('mesh'), args, { cwd: elsewhere, env, reject: false, stdin: 'ignore', timeout: 120_000, killSignal: 'SIGKILL' });
let manifest: string | undefined;

t.teardown(async () => {
  if (manifest !== undefined && existsSync(bin('mesh'))) await mesh(['down', manifest]);
  for (const p of processesNaming(dir)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface PackedFile {
  path: string;
  size: number;
}

t.test('npm pack: the built CLIs, the demo and its examples; no tests, sources or source maps', async (t) => {
  t.ok(existsSync(join(root, 'dist/sidecar/mesh/cli.js')), 'dist/ is built (npm test builds first; else `npm run build`)');
  // The build is npm test's own (pretest); --ignore-scripts keeps pack from building again.
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
  const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: PackedFile[] }[];
  const paths = info!.files.map((f) => f.path);
  t.comment(`${info!.filename}: ${(info!.size / 1024).toFixed(0)} KiB packed, ${paths.length} files`);
  for (const wanted of [
    'dist/sidecar/mesh/cli.js',
    'dist/proxy/cli.js',
    'dist/sidecar/cli.js',
    'dist/examples/cmc/index.js',
    'configs/demo.yaml',
    'configs/mesh.schema.json',
    'examples/fs_server.py',
    'examples/memory_server.py',
    'examples/texts/chapter1.txt',
    'proxy/dashboard/client/app.js',
    'README.md',
  ]) {
    t.ok(paths.includes(wanted), `ships ${wanted}`);
  }
  t.same(
    paths.filter((p) => p.startsWith('dist/test/') || p.startsWith('test/') || p.endsWith('.map') || p.endsWith('.ts') !== p.endsWith('.d.ts') || p.includes('tsbuildinfo')),
    [],
    'no tests, TypeScript sources, source maps or build info',
  );
  t.ok(info!.size < 1024 * 1024, 'the tarball stays under 1 MiB');
  const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)], { cwd: elsewhere, reject: false });
  t.equal(install.exitCode, 0, 'npm install -g of the tarball', { stderr: install.stderr.slice(-2000) });
});

t.test('the installed CLIs are on the prefix PATH and answer', async (t) => {
  const names = ['mesh', 'mesh-proxy', 'mesh-sidecar'];
  const results = await Promise.all(names.map((name) => execa(bin(name), ['--version'], { cwd: elsewhere, env, reject: false })));
  for (const [index, result] of results.entries()) {
    t.equal(result.exitCode, 0, `${names[index]} --version`, { stderr: result.stderr });
    t.match(result.stdout, /^\d+\.\d+\.\d+/, `${names[index]} prints its version`);
  }
});

t.test('mesh up of the installed demo, from another folder: healthy, a tool call, mesh down', async (t) => {
  const path = await mesh(['demo', '--path']);
  const installed = join(prefix, 'lib/node_modules/mm-mesh/configs/demo.yaml');
  t.equal(path.stdout.trim(), installed, 'mesh demo --path names the installed manifest');
  // The installed demo itself, its proxy moved to a free port (no fixed ports in tests): every
  // service still runs the installed package's files, in its configs/ folder.
  const run = join(dir, 'run');
  mkdirSync(run);
  const copy = writeBenchManifest(run, await freePort(), installed);
  manifest = copy.file;
  const up = await mesh(['up', copy.file, '--detach', '--json']);
  t.equal(up.exitCode, 0, 'mesh up --detach', { stdout: up.stdout.slice(-1500), stderr: up.stderr });
  await pollJson(`${copy.proxyUrl}/healthz`, (status) => status === 200);
  const ls = await mesh(['ls', '-f', copy.file, '--json']);
  const services = (JSON.parse(ls.stdout) as { services: { name: string; status: string }[] }).services;
  t.same(services.map((s) => `${s.name}:${s.status}`).sort(), ['cmc:healthy', 'fs:healthy', 'memory:healthy'], 'mesh ls --json: the three demo services healthy');
  const proxy = processesNaming(join(prefix, 'lib/node_modules/mm-mesh/dist/proxy/cli.js'));
  t.ok(proxy.length > 0, 'the proxy runs from the installed package, not from the checkout');
  for (const file of ['app.js', 'uplot.js']) {
    const asset = await fetch(`${copy.proxyUrl}/dashboard/${file}`);
    t.equal(asset.status, 200, `the dashboard serves ${file} from the installed package`);
  }

  const remember = await mesh([
    'call',
    '-f',
    copy.file,
    'memory',
    'create_entities',
    '--json',
    JSON.stringify({ entities: [{ name: 'chapter1', entityType: 'text', observations: ['read by the install test'] }] }),
  ]);
  t.equal(remember.exitCode, 0, 'memory create_entities', { stderr: remember.stderr });
  const search = await mesh(['call', '-f', copy.file, 'memory', 'search_nodes', 'query=install']);
  t.match(search.stdout, /chapter1/, 'the memory service finds what it stored');
  const quality = await mesh(['call', '-f', copy.file, 'cmc', 'analyze_chapter_quality', 'path=chapter1.txt']);
  t.equal(quality.exitCode, 0, 'cmc calls fs through the mesh', { stderr: quality.stderr });

  const down = await mesh(['down', copy.file]);
  t.equal(down.exitCode, 0, 'mesh down', { stderr: down.stderr });
  manifest = undefined;
  t.same(processesNaming(prefix), [], 'no process of the installed package is left');
});
