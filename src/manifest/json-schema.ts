import { z } from 'zod';
import { ManifestSchema } from './schema.js';

/**
 * The manifest's JSON Schema (what a manifest may contain, so `io: 'input'`: defaults optional),
 * for editors via `# yaml-language-server: $schema=./mesh.schema.json`.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ManifestSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  // The schema's refinement in words an editor checks: a service has a command (run here) or a url (a remote server).
  const services = (schema.properties as Record<string, { additionalProperties?: Record<string, unknown> }> | undefined)?.services;
  if (services?.additionalProperties) services.additionalProperties.oneOf = [{ required: ['command'] }, { required: ['url'] }];
  return { ...schema, $id: 'https://mm-mesh.local/mesh.schema.json', title: 'MM - MCP Mesh manifest' };
}

/** The schema file's exact text (2-space JSON and a final newline). */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
