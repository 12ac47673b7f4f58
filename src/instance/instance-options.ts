import { tokenRequiredFor } from '../http/bearer-token.js';
import { DEFAULT_DRAIN_MS } from '../http/drain.js';
import { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS } from '../http/session-limits.js';
import { MeshError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PortRange } from '../http/ports.js';
import { SERVICE_NAME_PATTERN } from '../manifest/schema.js';
import { proxyUrlsFrom } from '../client/proxy-url.js';
import { readCa, readServerTls, type ServerTls } from '../http/tls-trust.js';

/** Options of `createInstance()`; each falls back to an environment variable, then a default. */
export interface InstanceOptions {
  /** Service name (`MESH_SERVICE_NAME`): 1-63 of a-z, 0-9, "_", "-". */
  name?: string;
  /** What the service does; sent to MCP clients as the server's instructions. */
  description?: string;
  /** Version reported in serverInfo and to the registry (default 0.0.0). */
  version?: string;
  /** Tags for discovery (`MESH_TAGS`, comma-separated). */
  tags?: string[];
  /** Address to bind (`MESH_HOST`, default 127.0.0.1). */
  host?: string;
  /** Port to bind (`MESH_PORT`; 0: any free port); default: the first free port of `portRange`. */
  port?: number;
  /** Ports searched when no port is given (default 5000-5099; 5060 and 5061 are skipped). */
  portRange?: PortRange;
  /** mesh-proxy base URL, or several tried in order (`MESH_PROXY_URL`, comma-separated; default http://127.0.0.1:6001); false runs standalone (also `MESH_NO_PROXY=1`). */
  proxy?: string | string[] | false;
  /** Serve HTTPS: certificate and key, each a PEM or the path of a PEM file (`MESH_TLS_CERT`, `MESH_TLS_KEY`). */
  tls?: { cert: string; key: string };
  /** CA(s) an https proxy is verified against besides the system store: a PEM or the path of a PEM file (`MESH_CA`). */
  ca?: string;
  /** The URL registered with the proxy (`MESH_ADVERTISE_URL`); default from `host` (0.0.0.0: the first non-internal IPv4). */
  advertiseUrl?: string;
  /** Bearer token for the proxy (`MESH_TOKEN`). */
  token?: string;
  /** Heartbeat interval in ms (`MESH_HEARTBEAT`, in seconds; default 30 s, jittered ±10%). */
  heartbeatMs?: number;
  /** Deadline of every call in ms (`MESH_DEADLINE`, in seconds; default 60 s): then the handler's signal aborts. */
  deadlineMs?: number;
  /** Extra hostnames accepted in Host/Origin headers. */
  allowedHosts?: string[];
  /** On stop, how long calls in flight may finish before they are cut, in ms (`MESH_DRAIN_TIMEOUT`, in seconds; default 15 s). */
  drainTimeoutMs?: number;
  /** An MCP session idle this long is closed, in ms (`MESH_SESSION_IDLE_TIMEOUT`, in seconds; default 30 min). */
  sessionIdleMs?: number;
  /** Cap of open MCP sessions: a new one evicts the least recently used idle one, or gets 503 when all are busy (`MESH_MAX_SESSIONS`; default 1000). */
  maxSessions?: number;
  /** Stop cleanly (deregister) on SIGINT/SIGTERM, then let the signal end the process (default true). */
  handleSignals?: boolean;
  log?: Logger;
  /** Environment to read defaults from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** Options with every default filled in. */
export interface ResolvedInstanceOptions {
  name: string;
  description: string | undefined;
  version: string;
  tags: string[];
  host: string;
  port: number | undefined;
  portRange: PortRange;
  /** Where ctx.mesh calls go (set even when standalone): the first of `proxyUrls`. */
  proxyUrl: string;
  /** Every proxy, in the order registration and ctx.mesh try them. */
  proxyUrls: string[];
  tls: ServerTls | undefined;
  /** The system store plus `ca`; undefined without one. */
  ca: string[] | undefined;
  advertiseUrl: string | undefined;
  /** False when not registering. */
  register: boolean;
  token: string | undefined;
  heartbeatMs: number;
  deadlineMs: number;
  allowedHosts: string[];
  drainTimeoutMs: number;
  sessionIdleMs: number;
  maxSessions: number;
  handleSignals: boolean;
}

const TAG = /^[A-Za-z0-9_.:-]{1,64}$/;

function bad(message: string): MeshError {
  return new MeshError('BAD_REQUEST', message);
}

// A whole number from the environment, with an error naming the variable.
function envNumber(env: Record<string, string | undefined>, key: string, check: (n: number) => boolean, expected: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!check(n)) throw bad(`${key}=${JSON.stringify(raw)}: expected ${expected}`);
  return n;
}

/**
 * Fills in an instance's options: explicit options win, then MESH_* variables, then defaults.
 * @throws MeshError BAD_REQUEST naming the option or variable that is wrong
 * @example resolveInstanceOptions({ name: 'cmc' }, { MESH_PORT: '5012' }).port // 5012
 */
export function resolveInstanceOptions(options: InstanceOptions, env: Record<string, string | undefined> = options.env ?? process.env): ResolvedInstanceOptions {
  const name = options.name ?? env.MESH_SERVICE_NAME;
  if (!name) throw bad('createInstance: no service name: pass { name } or set MESH_SERVICE_NAME');
  if (!SERVICE_NAME_PATTERN.test(name)) {
    throw bad(`invalid service name "${name}": use 1-63 lowercase letters, digits, "_" or "-", starting with a letter or digit`);
  }
  const tags =
    options.tags ??
    (env.MESH_TAGS ?? '')
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
  for (const tag of tags) if (!TAG.test(tag)) throw bad(`invalid tag "${tag}": use 1-64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-"`);
  const isPort = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65_535;
  const port = options.port ?? envNumber(env, 'MESH_PORT', isPort, 'a port number 0-65535');
  if (port !== undefined && !isPort(port)) throw bad(`invalid port ${port}: expected 0-65535`);
  const positive = (n: number) => Number.isFinite(n) && n > 0;
  const heartbeatS = envNumber(env, 'MESH_HEARTBEAT', positive, 'a positive number of seconds');
  const deadlineS = envNumber(env, 'MESH_DEADLINE', positive, 'a positive number of seconds');
  const drainS = envNumber(env, 'MESH_DRAIN_TIMEOUT', positive, 'a positive number of seconds');
  const sessionIdleS = envNumber(env, 'MESH_SESSION_IDLE_TIMEOUT', positive, 'a positive number of seconds');
  const maxSessions = options.maxSessions ?? envNumber(env, 'MESH_MAX_SESSIONS', (n) => Number.isInteger(n) && n > 0, 'a whole number above 0');
  const noProxy = options.proxy === false || (options.proxy === undefined && /^(1|true|yes)$/i.test(env.MESH_NO_PROXY ?? ''));
  const host = options.host ?? (env.MESH_HOST || '127.0.0.1');
  const token = options.token ?? (env.MESH_TOKEN || undefined);
  const unprotected = tokenRequiredFor(host, token, `instance "${name}"`, 'its token option (or MESH_TOKEN)');
  if (unprotected) throw bad(unprotected);
  const proxyUrls = proxyUrlsFrom(options.proxy === false ? undefined : options.proxy, env);
  const tls = readServerTls(options.tls?.cert ?? (env.MESH_TLS_CERT || undefined), options.tls?.key ?? (env.MESH_TLS_KEY || undefined));
  return {
    name,
    description: options.description,
    version: options.version ?? '0.0.0',
    tags,
    host,
    port,
    portRange: options.portRange ?? { from: 5000, to: 5099 },
    proxyUrl: proxyUrls[0] as string,
    proxyUrls,
    tls,
    ca: readCa(options.ca ?? (env.MESH_CA || undefined), 'ca (MESH_CA)'),
    advertiseUrl: options.advertiseUrl ?? (env.MESH_ADVERTISE_URL || undefined),
    register: !noProxy,
    token,
    heartbeatMs: options.heartbeatMs ?? (heartbeatS === undefined ? 30_000 : heartbeatS * 1000),
    deadlineMs: options.deadlineMs ?? (deadlineS === undefined ? 60_000 : deadlineS * 1000),
    allowedHosts: options.allowedHosts ?? [],
    drainTimeoutMs: options.drainTimeoutMs ?? (drainS === undefined ? DEFAULT_DRAIN_MS : drainS * 1000),
    sessionIdleMs: options.sessionIdleMs ?? (sessionIdleS === undefined ? DEFAULT_SESSION_IDLE_MS : sessionIdleS * 1000),
    maxSessions: maxSessions ?? DEFAULT_MAX_SESSIONS,
    handleSignals: options.handleSignals ?? true,
  };
}
