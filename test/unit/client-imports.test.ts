import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';

// The client entry must stay light: an app that only calls the mesh never loads execa, sql.js,
// hono, or anything of the proxy or sidecar. Checked on the compiled output (npm test builds first).
const root = fileURLToPath(new URL('../../', import.meta.url));
const entry = join(root, 'dist/src/client/index.js');
const forbidden = [/^execa$/, /^sql\.js/, /^hono/, /^@hono\//, /^commander$/, /^prom-client$/];
const forbiddenDirs = ['dist/proxy/', 'dist/sidecar/', 'dist/src/stdio/'].map((dir) => join(root, dir));

/** Follows the relative imports of compiled files; returns the files reached and the bare specifiers used. */
function walk(start: string): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [start];
  const pattern = /(?:^|[\s;}])(?:import|export)\s*(?:type\s+)?(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] ?? match[2];
      if (!specifier) continue;
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else bare.add(specifier);
    }
  }
  return { files: [...seen], bare };
}

t.test('the compiled client entry exists', async (t) => {
  t.ok(existsSync(entry), `${relative(root, entry)} exists (build with npx tsc -p . first)`);
});

t.test('static import graph: only the client, src/errors and src/contract, no forbidden packages', { skip: !existsSync(entry) }, async (t) => {
  const { files, bare } = walk(entry);
  t.ok(files.length >= 5, `${files.length} compiled files reached`);
  for (const file of files) {
    t.notOk(
      forbiddenDirs.some((dir) => file.startsWith(dir)),
      `${relative(root, file)} is not proxy/sidecar/stdio code`,
    );
  }
  for (const specifier of bare) {
    t.notOk(
      forbidden.some((pattern) => pattern.test(specifier)),
      `bare import "${specifier}" is allowed`,
    );
  }
  // zod: the wire contract's schemas (src/contract/), with which the client parses answers; the SDK's client package depends on it too.
  // The OTel API and its W3C propagator: a call continues its caller's trace (the SDK and exporter are never imported here).
  // undici: imported on first use only, by a client given a CA (src/http/trusted-fetch.ts); the runtime check below loads none.
  const allowed = [...bare].every((s) => s.startsWith('node:') || s === '@modelcontextprotocol/client' || s === 'zod' || s === '@opentelemetry/api' || s === '@opentelemetry/core' || s === 'undici');
  t.ok(allowed, `bare imports are node builtins, the MCP SDK's client package, zod, the OTel API and propagator or undici (lazily): ${[...bare].join(', ')}`);
});

t.test('runtime module graph (resolve hook): no execa, sql.js, hono, proxy or sidecar', { skip: !existsSync(entry) }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-client-imports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'resolved.txt');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}\n`,
  );
  const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(pathToFileURL(entry).href)}); if (typeof m.MeshClient !== 'function') throw new Error('no MeshClient');`,
    ],
    { encoding: 'utf8', cwd: root },
  );
  t.equal(run.status, 0, `the entry loads on its own: ${run.stderr}`);
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  t.ok(
    urls.some((url) => url.endsWith('/dist/src/client/mesh-client.js')),
    'the hook saw the client load',
  );
  const bad = urls.filter((url) => /\/node_modules\/(execa|sql\.js|hono|@hono|commander|prom-client|undici)\//.test(url) || /\/dist\/(proxy|sidecar)\//.test(url));
  t.same(bad, [], 'no forbidden module is loaded');
});
