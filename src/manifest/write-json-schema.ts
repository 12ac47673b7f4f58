import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { manifestJsonSchemaText } from './json-schema.js';

/** configs/mesh.schema.json of this repository (from src/ or dist/src/). */
export function defaultSchemaPath(): string {
  const fromDist = fileURLToPath(import.meta.url).includes('/dist/src/');
  return fileURLToPath(new URL(fromDist ? '../../../configs/mesh.schema.json' : '../../configs/mesh.schema.json', import.meta.url));
}

/**
 * Regenerates the editor schema from the zod schema; run after changing schema.ts:
 * `npx tsx -e "import('./src/manifest/write-json-schema.ts').then((m) => m.writeManifestJsonSchema())"`.
 */
export async function writeManifestJsonSchema(file = defaultSchemaPath()): Promise<string> {
  await writeFile(file, manifestJsonSchemaText());
  return file;
}
