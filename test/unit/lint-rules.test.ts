import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';
import tseslint from 'typescript-eslint';

// The project's own lint rules (eslint.config.js), run on small sources placed at chosen paths.
// Type information is switched off: these rules are syntactic, and a probe file is in no tsconfig.
const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });

/** The rule ids reported for `code` as if it were the file at `path` (relative to the repository). */
async function rulesHit(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  if (!result) throw new Error(`ESLint returned no result for ${path}`);
  const fatal = result.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`${path} did not parse: ${fatal.message}`);
  return result.messages.map((m) => m.ruleId ?? 'unknown');
}

t.test('src/ never imports proxy/ or sidecar/, statically, by re-export or dynamically', async (t) => {
  t.same(await rulesHit('src/probe.ts', "import { createProxyApp } from '../proxy/app.js';\nexport const a = createProxyApp;\n"), ['no-restricted-imports']);
  t.same(await rulesHit('src/deep/probe.ts', "export { startSidecar } from '../../sidecar/sidecar.js';\n"), ['no-restricted-imports']);
  t.same(await rulesHit('src/probe.ts', "import type { Registry } from '../proxy/registry/registry.js';\nexport type R = Registry;\n"), ['no-restricted-imports']);
  t.same(await rulesHit('src/probe.ts', "export const load = () => import('../sidecar/cli.js');\n"), ['no-restricted-syntax']);
  t.same(await rulesHit('src/client/probe.ts', "import { x } from './proxy-request.js';\nexport const a = x;\n"), [], 'a file named proxy-… inside src/ is fine');
  t.same(await rulesHit('proxy/probe.ts', "import { MeshError } from '../src/errors.js';\nexport const a = MeshError;\n"), [], 'proxy/ imports src/');
});

t.test('library code never calls process.exit; the CLI files may', async (t) => {
  t.same(await rulesHit('src/probe.ts', 'export function stop(): void {\n  process.exit(1);\n}\n'), ['no-restricted-properties']);
  t.same(await rulesHit('src/probe.ts', "export function stop(): void {\n  process['exit'](1);\n}\n"), ['no-restricted-properties']);
  t.same(await rulesHit('sidecar/probe.ts', 'export function stop(): void {\n  process.exit(1);\n}\n'), []);
});

t.test('media types are parsed, never substring-matched, in every folder', async (t) => {
  for (const path of ['src/probe.ts', 'proxy/probe.ts', 'sidecar/probe.ts', 'test/probe.ts']) {
    for (const check of [
      "type.includes('application/json')",
      "type.startsWith('text/event-stream')",
      'type.startsWith(`text/event-stream`)',
      "type.indexOf('text/plain') >= 0",
      "type.endsWith('+json')",
      "type.toLowerCase().includes('Application/JSON')",
      "type.includes('json')",
    ]) {
      t.same(await rulesHit(path, `export const f = (type: string) => ${check};\n`), ['no-restricted-syntax'], `${path}: ${check}`);
    }
  }
  const parsed = "import { MIMEType } from 'node:util';\nexport const f = (type: string) => new MIMEType(type).essence === 'application/json';\n";
  t.same(await rulesHit('src/probe.ts', parsed), [], 'MIMEType');
  for (const fine of ["type.includes('application')", "type.startsWith('text')", "type.includes('/')", "['a', 'json'].includes(type)"]) {
    t.same(await rulesHit('src/probe.ts', `export const f = (type: string) => ${fine};\n`), [], fine);
  }
});
