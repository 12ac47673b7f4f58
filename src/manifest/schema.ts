import { z } from 'zod';
import { ViewsSchema } from '../contract/views.js';
import { RemoteHeadersSchema, RemoteUrlSchema } from '../contract/remotes.js';

/** Service names: what `mesh call NAME` and the `NAME__tool` namespacing accept. */
export const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const ServiceNameSchema = z.string().regex(SERVICE_NAME_PATTERN, {
  error: 'a service name is 1-63 lowercase letters, digits, "_" or "-", starting with a letter or digit',
});

// The OS cuts argv and environment strings at a NUL, so the child would get something else (or
// spawn throws and the service crash-loops): refused here, where the file and line are known.
const noNul = (schema: z.ZodString) => schema.refine((value) => !value.includes('\0'), { error: 'contains a NUL character (\\0), which a process argument or environment value cannot hold' });

const stringList = (what: string) => z.array(noNul(z.string({ error: 'expected a string' })), { error: 'expected a list of strings' }).describe(what);

const positiveSeconds = z.number({ error: 'expected a number of seconds' }).positive({ error: 'expected a positive number of seconds' });
const seconds = (what: string, fallback: number) => positiveSeconds.default(fallback).describe(what);

// Omitted limits keep the daemon's own default (its flag's), so none is given here.
const optionalSeconds = (what: string) => positiveSeconds.optional().describe(what);
const optionalCount = (what: string) => z.int({ error: 'expected a whole number' }).min(1, { error: 'expected a whole number above 0' }).optional().describe(what);

const portNumber = z.int({ error: 'expected a port number' }).min(0).max(65_535);

// TLS and other hosts (README, "Other hosts"): PEM files resolve against the manifest folder.
const pemFile = (what: string) =>
  noNul(z.string({ error: 'expected the path of a PEM file' }).min(1))
    .optional()
    .describe(what);

const httpUrl = (text: string) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

/** One proxy URL, or several of one mesh (comma-separated, tried in order). */
const proxyUrls = z
  .string()
  .refine((text) => text.split(',').every((part) => httpUrl(part.trim())), { error: 'expected an http(s) URL, or several separated by commas' })
  .optional()
  .describe('a mesh-proxy elsewhere (https://10.0.0.2:6001, or several of one mesh, comma-separated): `mesh up` starts no proxy and registers the services there');

export const BackoffSchema = z
  .strictObject({
    initialMs: z.int().positive().default(500).describe('first restart delay in milliseconds'),
    maxMs: z.int().positive().default(30_000).describe('cap of the exponential restart delay in milliseconds'),
  })
  .describe('capped exponential backoff between restarts');
export type Backoff = z.infer<typeof BackoffSchema>;

export const RestartSchema = z
  .strictObject({
    policy: z.enum(['always', 'on-failure', 'never']).default('always').describe('when a child that exited is started again'),
    maxCrashes: z.int().positive().default(5).describe('crashes within windowSeconds after which the service is a crash loop and not routed'),
    windowSeconds: z.number().positive().default(60).describe('window over which crashes are counted'),
    backoff: BackoffSchema.prefault({}),
  })
  .describe('supervision of the child process');
export type Restart = z.infer<typeof RestartSchema>;

/** What a child's environment accepts as a variable name (POSIX: letters, digits, "_", no leading digit). */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envName = z.string().regex(ENV_NAME_PATTERN, { error: 'an environment variable name is letters, digits and "_", not starting with a digit (no "=", spaces or NUL)' });

// Numbers and booleans are accepted as env values (`DEBUG: 1`) and passed on as strings.
const envValue = z.union([noNul(z.string()), z.number(), z.boolean()], { error: 'expected a string value' }).transform((value) => String(value));

// A service runs a command (a local stdio or native server) or names a url (a remote server): one of them, and a remote one takes no process settings.
function checkServiceKind(
  service: {
    command?: string | undefined;
    url?: string | undefined;
    headers?: unknown;
    args: string[];
    cwd?: string | undefined;
    env: object;
    port?: number | undefined;
    replicas: number;
    kind: string;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (service.url === undefined) {
    if (service.command === undefined) issue('command', 'required field is missing (or url: for a remote Streamable HTTP server)');
    if (service.headers !== undefined) issue('headers', 'headers are sent to a remote server: give url: too');
    return;
  }
  if (service.command !== undefined) issue('url', 'a service has either command (run here) or url (a remote server), not both');
  const local: [string, boolean][] = [
    ['args', service.args.length > 0],
    ['cwd', service.cwd !== undefined],
    ['env', Object.keys(service.env).length > 0],
    ['port', service.port !== undefined],
    ['replicas', service.replicas !== 1],
    ['kind', service.kind !== 'sidecar'],
  ];
  for (const [field, set] of local) if (set) issue(field, 'not used by a remote server (url:): nothing runs here');
}

export const ServiceSchema = z
  .strictObject({
    kind: z
      .enum(['sidecar', 'native'], { error: 'expected "sidecar" or "native"' })
      .default('sidecar')
      .describe(
        'sidecar: a stdio MCP server run behind mesh-sidecar; native: a process that serves MCP and registers itself (createInstance()), run directly with MESH_SERVICE_NAME, MESH_PROXY_URL, MESH_PORT, MESH_TAGS and MESH_TOKEN set',
      ),
    command: noNul(z.string({ error: 'expected the command to run (a string)' }).min(1))
      .optional()
      .describe('program to run; "./" or "../" paths resolve against the manifest folder, others are looked up on PATH (or give url: for a remote server)'),
    url: RemoteUrlSchema.optional().describe('instead of command: a remote Streamable HTTP MCP server (http or https) the proxy registers, health-checks and routes to'),
    headers: RemoteHeadersSchema.optional().describe('with url: headers sent on every request to the remote server, e.g. Authorization: "Bearer ${API_TOKEN}" (never logged or shown)'),
    args: stringList('arguments, passed as an argv array (never through a shell)').default([]),
    cwd: noNul(z.string()).optional().describe('working directory of the child; relative paths resolve against the manifest folder'),
    env: z.record(envName, envValue, { error: 'expected a map of NAME: value' }).default({}).describe('extra environment variables of the child'),
    tags: stringList('labels for `mesh ls --tag` and the registry').default([]),
    port: portNumber.optional().describe('fixed sidecar port; omitted = first free port in 5000-5099'),
    restart: RestartSchema.prefault({}),
    replicas: z.int({ error: 'expected a whole number' }).min(1).default(1).describe('number of instances (sidecars) of this service'),
    deadline: z.number().positive().optional().describe('per-call deadline in seconds; omitted = proxy.deadline'),
    drainTimeout: optionalSeconds('on stop, seconds calls in flight may finish before they are cut (default 15)'),
    sessionIdleTimeout: optionalSeconds('seconds after which an idle MCP session of an instance is closed (default 1800)'),
    maxSessions: optionalCount('cap of open MCP sessions per instance: a new one evicts the least recently used idle one, or gets 503 when all are busy (default 1000)'),
    maxMessageBytes: optionalCount('largest message (one stdout line) the server may send; a longer one fails its call (sidecar only; default 32 MiB)'),
    isolate: z.boolean().default(false).describe('sidecar only: run its sidecar in a process of its own (as `mesh-sidecar`) instead of the shared sidecar host of `mesh up`'),
    enabled: z.boolean().default(true).describe('false keeps the service in the file but out of `mesh up`'),
    host: z.string().min(1).optional().describe('address the instance binds (default 127.0.0.1); beyond loopback MESH_TOKEN is required'),
    advertiseUrl: z.string().refine(httpUrl, { error: 'expected an http(s) URL' }).optional().describe('the URL registered with the proxy (default from host; 0.0.0.0: the first non-internal IPv4)'),
    tlsCert: pemFile('serve the instance over HTTPS with this certificate (with tlsKey)'),
    tlsKey: pemFile('the private key of tlsCert'),
    ca: pemFile('CA that signed the proxy certificate, besides the system store (default proxy.ca)'),
    description: z.string().optional().describe('free text shown by `mesh ls`'),
  })
  .superRefine(checkServiceKind)
  .describe('one MCP server of the mesh');
export type Service = z.infer<typeof ServiceSchema>;
export type ServiceInput = z.input<typeof ServiceSchema>;

// Omitted fields keep mesh-proxy's own defaults (its --eject-after ... flags).
export const CircuitSchema = z
  .strictObject({
    ejectAfter: z.int().min(1).optional().describe('instance failures in a row that eject it from rotation (default 5)'),
    ejectionTime: z.number().positive().optional().describe('seconds of a first ejection; the n-th lasts n times as long (default 30)'),
    maxEjectionTime: z.number().positive().optional().describe('longest ejection in seconds (default 300)'),
    maxEjectionPercent: z.int().min(1).max(100).optional().describe("most of a service's healthy replicas ejected at once, at least one, never all (default 50)"),
  })
  .describe('circuit breaking: when failing instances are taken out of rotation');

export const ProxySchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('interface the proxy listens on; beyond loopback a bearer token is required'),
    port: portNumber.default(6001).describe('HTTP API (/v1), /mcp, /healthz and /metrics'),
    mcpPort: portNumber.default(6000).describe("second MCP endpoint (the seed's port); 0 disables it"),
    registry: z
      .string()
      .optional()
      .describe('registry database file (relative paths resolve against the manifest folder; omitted = user data dir), or a PostgreSQL URL postgres://… shared by several proxies'),
    heartbeatInterval: seconds('seconds between sidecar heartbeats', 30),
    heartbeatTimeout: seconds('seconds of silence after which an instance is removed', 120),
    deadline: seconds('default per-call deadline in seconds', 60),
    drainTimeout: optionalSeconds('on SIGTERM/SIGINT, seconds calls in flight may finish before they are cut (default 15)'),
    sessionIdleTimeout: optionalSeconds('seconds after which an idle MCP session of the proxy is closed (default 1800)'),
    maxSessions: optionalCount("cap of the proxy's open MCP sessions: a new one evicts the least recently used idle one, or gets 503 when all are busy (default 1000)"),
    maxResponseBytes: optionalCount('largest answer read from an instance (one JSON body or SSE event); a larger one fails its call (default 32 MiB)'),
    circuit: CircuitSchema.optional(),
    url: proxyUrls,
    tlsCert: pemFile('serve the proxy over HTTPS with this certificate (with tlsKey)'),
    tlsKey: pemFile('the private key of tlsCert'),
    ca: pemFile('CA that signed the certificates of https instances (and, for `mesh up`, of the proxy), besides the system store'),
    allowInstances: stringList('networks (CIDRs) whose IP addresses instances may register from, besides loopback').optional(),
    allowPlainHttp: z.boolean().optional().describe('accept registrations over plain HTTP from other hosts (default refused)'),
    separator: z
      .string()
      .regex(/^(?=.*[_-])[A-Za-z0-9_-]{1,4}$/, { error: 'a separator is 1-4 characters of A-Z, a-z, 0-9, "_" or "-", at least one of them "_" or "-" (e.g. "__", "_", "--")' })
      .optional()
      .describe('between service and tool in the MCP endpoint\'s tool names (default "__": fs__read_text)'),
  })
  .describe('the mesh-proxy daemon');
export type ProxyConfig = z.infer<typeof ProxySchema>;

export const ManifestSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }).describe('manifest format version'),
    proxy: ProxySchema.prefault({}),
    services: z.record(ServiceNameSchema, ServiceSchema, { error: 'expected a map of service name to service' }).default({}),
    views: ViewsSchema.default({}).describe('named views: each an MCP endpoint /mcp/<view> of the proxy showing only the services (by name or tag) and tools it selects'),
  })
  .describe('MM - MCP Mesh manifest');
/** A validated manifest with defaults filled (paths as written; see load.ts for the resolved form). */
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
