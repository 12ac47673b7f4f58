import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { MeshError } from '../errors.js';
import { fieldProblems } from './issues.js';
import { resolveAgainst } from './resolve-paths.js';
import { SERVICE_NAME_PATTERN, ServiceSchema, type ServiceInput } from './schema.js';
import { servicesToYaml, type ToYamlOptions } from './to-yaml.js';
import { formatPath } from './yaml-positions.js';

// What MCP clients write per server; other keys (disabled, alwaysAllow, timeout...) are ignored.
const McpServerEntrySchema = z.looseObject({
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  cwd: z.string().optional(),
  type: z.string().optional(),
  url: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/** `.mcp.json` (Claude Code) and `claude_desktop_config.json` (Claude Desktop) share this shape; entries are checked one by one. */
export const McpConfigSchema = z.looseObject({ mcpServers: z.record(z.string(), z.unknown(), { error: 'expected a map of server name to server' }) });
export type McpConfig = z.infer<typeof McpConfigSchema>;

export interface SkippedServer {
  name: string;
  /** remote: a remote entry the mesh cannot reach (SSE); invalid: an entry the mesh cannot run as written. */
  kind: 'remote' | 'invalid';
  reason: string;
}

export interface ImportOptions {
  /** Folder the manifest will be saved in: paths are written relative to it; omitted = absolute paths. */
  outputDir?: string;
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

/** The `type`s of a Streamable HTTP server in client configs (Claude Code `http`, others `streamable-http`). */
const STREAMABLE_TYPES = new Set(['http', 'streamable-http', 'streamablehttp', 'streamable_http']);

// stdio (a command to run), http (a Streamable HTTP server: a remote service), or another remote kind the mesh cannot reach.
function entryKind(entry: Record<string, unknown>): 'stdio' | 'http' | { skip: string } {
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : undefined;
  if (entry.url === undefined && (type === undefined || type === 'stdio')) return 'stdio';
  if (type === undefined || STREAMABLE_TYPES.has(type)) return 'http';
  const url = typeof entry.url === 'string' ? `, ${entry.url}` : '';
  return { skip: `not imported: a remote server of type ${String(entry.type)}${url}; the mesh reaches Streamable HTTP servers (type http) only, clients can reach it directly` };
}

// A Streamable HTTP entry as a remote service: its url and headers as written (their \${VAR}s read the environment at load).
function toRemote(entry: z.infer<typeof McpServerEntrySchema>): ServiceInput {
  return { url: entry.url ?? '', ...(entry.headers !== undefined && Object.keys(entry.headers).length > 0 && { headers: entry.headers }) };
}

// The first problem of a value, as `field: message` (the entry's own field names).
function firstProblem(error: z.ZodError, schema: z.ZodType, data: unknown): string {
  const problem = fieldProblems(error.issues, schema, data)[0];
  if (problem === undefined) return 'invalid';
  return problem.path.length === 0 ? problem.message : `${formatPath(problem.path)}: ${problem.message}`;
}

// A path written for the manifest: relative to its folder ("./x", "../x") when known, else absolute.
function manifestPath(absolute: string, outputDir: string | undefined): string {
  if (outputDir === undefined) return absolute;
  const path = relative(resolve(outputDir), absolute);
  if (path === '') return '.';
  return isAbsolute(path) || path === '..' || path.startsWith('../') ? path : `./${path}`;
}

/*
 * An MCP client starts a server in the folder of its config (Claude Code: the project root that
 * holds .mcp.json), so relative args like `fs_server.py` mean that folder. The service gets it as
 * `cwd` (omitted when the manifest lands in that same folder), and a `./x` command, which the
 * manifest would resolve against its own folder, is rewritten to point at the same program.
 */
function toService(entry: z.infer<typeof McpServerEntrySchema> & { command: string }, configDir: string, outputDir: string | undefined): ServiceInput {
  const cwd = entry.cwd === undefined ? configDir : resolveAgainst(configDir, entry.cwd);
  const isPath = entry.command.startsWith('./') || entry.command.startsWith('../');
  const service: ServiceInput = { command: isPath ? manifestPath(resolve(cwd, entry.command), outputDir) : entry.command };
  if (entry.args !== undefined && entry.args.length > 0) service.args = entry.args;
  if (outputDir === undefined || resolve(outputDir) !== cwd) service.cwd = manifestPath(cwd, outputDir);
  if (entry.env !== undefined && Object.keys(entry.env).length > 0) service.env = entry.env;
  return service;
}

/**
 * Turns the stdio entries of an MCP client config into manifest services, and its Streamable HTTP
 * entries (`url`, `type: http` or `streamable-http`, with their `headers`) into remote services;
 * other remote entries (SSE) and entries the mesh could not run are listed in `skipped` (each by name, the rest still imported),
 * names changed to fit the service-name pattern in `renamed`. Each service runs in the folder of
 * the config it came from.
 * @example const { services, toYaml } = importMcpConfig(await readFile('.mcp.json', 'utf8'), '.mcp.json', { outputDir: 'configs' })
 */
export function importMcpConfig(jsonText: string, file: string, options: ImportOptions = {}): ImportResult {
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
  const configDir = dirname(resolve(file));
  const services: Record<string, ServiceInput> = {};
  const skipped: SkippedServer[] = [];
  const renamed: RenamedServer[] = [];
  for (const [name, raw] of Object.entries(parsed.data.mcpServers)) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      skipped.push({ name, kind: 'invalid', reason: 'expected an object { command, args, env }' });
      continue;
    }
    const kind = entryKind(raw as Record<string, unknown>);
    if (typeof kind === 'object') {
      skipped.push({ name, kind: 'remote', reason: kind.skip });
      continue;
    }
    const entry = McpServerEntrySchema.safeParse(raw);
    if (!entry.success) {
      skipped.push({ name, kind: 'invalid', reason: firstProblem(entry.error, McpServerEntrySchema, raw) });
      continue;
    }
    const { command } = entry.data;
    if (kind === 'stdio' && (command === undefined || command === '')) {
      skipped.push({ name, kind: 'invalid', reason: 'no command to run' });
      continue;
    }
    const service = kind === 'http' ? toRemote(entry.data) : toService({ ...entry.data, command: command ?? '' }, configDir, options.outputDir);
    // The manifest's own rules (env names, NUL), so the written file validates.
    const checked = ServiceSchema.safeParse(service);
    if (!checked.success) {
      skipped.push({ name, kind: 'invalid', reason: firstProblem(checked.error, ServiceSchema, service) });
      continue;
    }
    const serviceName = uniqueName(normalizeServiceName(name), new Set(Object.keys(services)));
    if (serviceName !== name) renamed.push({ from: name, to: serviceName });
    services[serviceName] = service;
  }
  return { services, skipped, renamed, toYaml: (yamlOptions) => servicesToYaml(services, { file, skipped, renamed }, yamlOptions) };
}
