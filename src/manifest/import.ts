import { z } from 'zod';
import { MeshError } from '../errors.js';
import { SERVICE_NAME_PATTERN, type ServiceInput } from './schema.js';
import { servicesToYaml, type ToYamlOptions } from './to-yaml.js';

// What MCP clients write per server; other keys (disabled, alwaysAllow, timeout...) are ignored.
const McpServerEntrySchema = z.looseObject({
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  cwd: z.string().optional(),
  type: z.string().optional(),
  url: z.string().optional(),
});

/** `.mcp.json` (Claude Code) and `claude_desktop_config.json` (Claude Desktop) share this shape. */
export const McpConfigSchema = z.looseObject({ mcpServers: z.record(z.string(), McpServerEntrySchema) });
export type McpConfig = z.infer<typeof McpConfigSchema>;

export interface SkippedServer {
  name: string;
  reason: string;
}

export interface RenamedServer {
  from: string;
  to: string;
}

export interface ImportResult {
  /** Manifest services keyed by their (normalized) names, only the fields the config set. */
  services: Record<string, ServiceInput>;
  skipped: SkippedServer[];
  renamed: RenamedServer[];
  /** A commented manifest holding the imported services, ready to save as a .yaml file. */
  toYaml(options?: ToYamlOptions): string;
}

/** A client's server name made into a service name: lowercase, other characters to "-". */
export function normalizeServiceName(name: string): string {
  const normalized = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 63)
    .replace(/[-_]+$/, '');
  return SERVICE_NAME_PATTERN.test(normalized) ? normalized : 'server';
}

function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base.slice(0, 60)}-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function skipReason(entry: z.infer<typeof McpServerEntrySchema>): string | undefined {
  const type = entry.type?.toLowerCase();
  if (entry.url !== undefined || (type !== undefined && type !== 'stdio')) {
    return `remote server (type ${entry.type ?? 'http'}${entry.url === undefined ? '' : `, ${entry.url}`}): the mesh runs stdio servers; clients can reach it directly`;
  }
  if (entry.command === undefined || entry.command === '') return 'no command to run';
  return undefined;
}

/**
 * Turns the stdio entries of an MCP client config into manifest services; remote entries are
 * listed in `skipped`, names changed to fit the service-name pattern in `renamed`.
 * @example const { services, toYaml } = importMcpConfig(await readFile('.mcp.json', 'utf8'), '.mcp.json')
 */
export function importMcpConfig(jsonText: string, file: string): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(jsonText);
  } catch (cause) {
    throw new MeshError('MANIFEST_INVALID', `${file}: not valid JSON (${(cause as Error).message})`, { cause, context: { file } });
  }
  const parsed = McpConfigSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? '' : `${first.path.join('.')}: `;
    throw new MeshError('MANIFEST_INVALID', `${file}: ${where}${first?.message ?? 'invalid'} (expected { "mcpServers": { name: { command, args, env } } })`, {
      context: { file, issues: parsed.error.issues },
    });
  }
  const services: Record<string, ServiceInput> = {};
  const skipped: SkippedServer[] = [];
  const renamed: RenamedServer[] = [];
  for (const [name, entry] of Object.entries(parsed.data.mcpServers)) {
    const reason = skipReason(entry);
    if (reason !== undefined) {
      skipped.push({ name, reason });
      continue;
    }
    const serviceName = uniqueName(normalizeServiceName(name), new Set(Object.keys(services)));
    if (serviceName !== name) renamed.push({ from: name, to: serviceName });
    const service: ServiceInput = { command: entry.command ?? '' };
    if (entry.args !== undefined && entry.args.length > 0) service.args = entry.args;
    if (entry.cwd !== undefined) service.cwd = entry.cwd;
    if (entry.env !== undefined && Object.keys(entry.env).length > 0) service.env = entry.env;
    services[serviceName] = service;
  }
  return { services, skipped, renamed, toYaml: (options) => servicesToYaml(services, { file, skipped, renamed }, options) };
}
