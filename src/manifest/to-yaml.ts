import { Document, isMap, isScalar } from 'yaml';
import type { ServiceInput } from './schema.js';

export interface ToYamlOptions {
  /** `$schema` for editors, relative to where the file is saved. Default `./mesh.schema.json`. */
  schema?: string;
}

export interface ImportNotes {
  file: string;
  skipped: readonly { name: string; reason: string }[];
  renamed: readonly { from: string; to: string }[];
}

/** A commented manifest text holding `services` (defaults left out), as `mesh import` prints it. */
export function servicesToYaml(services: Record<string, ServiceInput>, notes: ImportNotes, options: ToYamlOptions = {}): string {
  const doc = new Document({ version: 1, services });
  doc.commentBefore = [
    ` yaml-language-server: $schema=${options.schema ?? './mesh.schema.json'}`,
    ` Imported from ${notes.file} by \`mesh import\`. Check it with \`mesh validate FILE\`, start it with \`mesh up -f FILE\`.`,
    ` Each service runs in the folder of ${notes.file} (its cwd), as the client ran it; relative cwd paths resolve against this file's folder.`,
    ' ${VAR} and ${VAR:-default} read the environment.',
    ' The proxy section is optional (defaults: host 127.0.0.1, port 6001, mcpPort 6000).',
  ].join('\n');
  const map = doc.get('services', true);
  if (isMap(map)) {
    for (const pair of map.items) {
      const to = isScalar(pair.key) ? String(pair.key.value) : '';
      const rename = notes.renamed.find((r) => r.to === to);
      if (isScalar(pair.key) && rename !== undefined) pair.key.commentBefore = ` "${rename.from}" in ${notes.file}`;
    }
  }
  if (notes.skipped.length > 0) {
    doc.comment = [' Not imported:', ...notes.skipped.map((s) => `   ${s.name}: ${s.reason}`)].join('\n');
  }
  return doc.toString({ lineWidth: 0 });
}
