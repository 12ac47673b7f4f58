import { checkManifestPaths, checkManifestPorts, type ResolvedManifest, type ResolvedService } from '../../../src/manifest/index.js';
import type { HostedSidecar } from '../../host/host-spec.js';
import { flagArgs } from './flag-args.js';
import { proxyUrlsFrom } from '../../../src/client/proxy-url.js';
import { leanNodeFlags } from './node-flags.js';

/** One process `mesh up` starts: a sidecar for a stdio server, or a native instance itself. */
export interface Launch {
  service: string;
  replica: number;
  kind: 'sidecar' | 'native';
  command: string;
  args: string[];
  cwd: string;
  /** Added to the inherited environment. */
  env: Record<string, string>;
  /** A sidecar run in the shared sidecar host (not `isolate`d): its options there; command/args are the standalone equivalent. */
  hosted?: HostedSidecar;
}

export interface PlanOptions {
  proxyUrl: string;
  /** The node binary and the compiled mesh-sidecar CLI. */
  node: string;
  sidecarScript: string;
  /** A bearer token for the proxy, passed to native instances as MESH_TOKEN. */
  token?: string | undefined;
  /** The sidecars' token for POST /control/restart (`mesh restart`), passed as MESH_CONTROL_TOKEN. */
  controlToken?: string | undefined;
  /** Run the sidecars not marked `isolate` in the one sidecar host process (default true). */
  shareHost?: boolean;
}

// replica i of a service with a fixed port gets port + i; port 0 (any free port) stays 0.
function replicaPort(service: ResolvedService, replica: number): number | undefined {
  if (service.port === undefined) return undefined;
  return service.port === 0 ? 0 : service.port + replica;
}

/*
 * The sidecar's argv carries no secrets: the service's env reaches the child through the
 * sidecar's own environment (the sidecar passes its environment on), not through `--env` flags
 * that `ps` would show.
 */
function sidecarLaunch(name: string, service: ResolvedService, replica: number, manifest: ResolvedManifest, options: PlanOptions): Launch {
  const port = replicaPort(service, replica);
  const { restart } = service;
  const args = [
    ...leanNodeFlags(),
    options.sidecarScript,
    '--name',
    name,
    '--proxy',
    options.proxyUrl,
    ...(port === undefined ? [] : ['--port', String(port)]),
    '--heartbeat',
    String(manifest.proxy.heartbeatInterval),
    '--deadline',
    String(service.deadline ?? manifest.proxy.deadline),
    ...flagArgs({
      '--drain-timeout': service.drainTimeout,
      '--session-idle-timeout': service.sessionIdleTimeout,
      '--max-sessions': service.maxSessions,
      '--max-message-bytes': service.maxMessageBytes,
    }),
    '--restart',
    restart.policy,
    '--max-crashes',
    String(restart.maxCrashes),
    '--crash-window',
    String(restart.windowSeconds),
    '--backoff',
    `${restart.backoff.initialMs}-${Math.max(restart.backoff.initialMs, restart.backoff.maxMs)}`,
    '--cwd',
    service.cwd,
    ...flagArgs({ '--host': service.host, '--advertise-url': service.advertiseUrl, '--tls-cert': service.tlsCert, '--tls-key': service.tlsKey, '--ca': service.ca ?? manifest.proxy.ca }),
    ...service.tags.flatMap((tag) => ['--tag', tag]),
    '--',
    service.command,
    ...service.args,
  ];
  const env = options.controlToken === undefined ? service.env : { ...service.env, MESH_CONTROL_TOKEN: options.controlToken };
  const launch: Launch = { service: name, replica, kind: 'sidecar', command: options.node, args, cwd: service.cwd, env };
  // A sidecar bound beyond loopback or serving TLS keeps its own process (and its flags).
  const networked = [service.host, service.advertiseUrl, service.tlsCert, service.tlsKey, service.ca ?? manifest.proxy.ca].some((v) => v !== undefined);
  if (options.shareHost !== false && !service.isolate && !networked) launch.hosted = hostedSidecar(name, service, port, manifest, options);
  return launch;
}

// The same options as the flags above, for startSidecar() in the host; the service's env goes to its child only.
function hostedSidecar(name: string, service: ResolvedService, port: number | undefined, manifest: ResolvedManifest, options: PlanOptions): HostedSidecar {
  const { restart } = service;
  const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);
  const sidecar: HostedSidecar = {
    name,
    command: service.command,
    args: service.args,
    cwd: service.cwd,
    env: service.env,
    host: '127.0.0.1',
    portRange: { from: 5000, to: 5099 },
    proxy: proxyUrlsFrom(options.proxyUrl),
    heartbeatMs: manifest.proxy.heartbeatInterval * 1000,
    tags: service.tags,
    allowedHosts: [],
    deadlineMs: (service.deadline ?? manifest.proxy.deadline) * 1000,
    restartPolicy: restart.policy,
    maxCrashes: restart.maxCrashes,
    crashWindowMs: restart.windowSeconds * 1000,
    backoff: { initialMs: restart.backoff.initialMs, maxMs: Math.max(restart.backoff.initialMs, restart.backoff.maxMs) },
  };
  if (port !== undefined) sidecar.port = port;
  if (options.token !== undefined && options.token !== '') sidecar.token = options.token;
  const optional = { drainTimeoutMs: seconds(service.drainTimeout), sessionIdleMs: seconds(service.sessionIdleTimeout), maxSessions: service.maxSessions, maxMessageBytes: service.maxMessageBytes };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(sidecar, { [key]: value });
  return sidecar;
}

function nativeLaunch(name: string, service: ResolvedService, replica: number, manifest: ResolvedManifest, options: PlanOptions): Launch {
  const port = replicaPort(service, replica);
  const env: Record<string, string> = { ...service.env, MESH_SERVICE_NAME: name, MESH_PROXY_URL: options.proxyUrl, MESH_TAGS: service.tags.join(',') };
  if (port !== undefined) env.MESH_PORT = String(port);
  // The same deadline and heartbeat a sidecar of this manifest gets as flags.
  env.MESH_DEADLINE = String(service.deadline ?? manifest.proxy.deadline);
  env.MESH_HEARTBEAT = String(manifest.proxy.heartbeatInterval);
  // The service's limits as createInstance() reads them; maxMessageBytes is a sidecar's (stdio) only.
  const limits = { MESH_DRAIN_TIMEOUT: service.drainTimeout, MESH_SESSION_IDLE_TIMEOUT: service.sessionIdleTimeout, MESH_MAX_SESSIONS: service.maxSessions };
  for (const [key, value] of Object.entries(limits)) if (value !== undefined) env[key] = String(value);
  if (options.token !== undefined && options.token !== '') env.MESH_TOKEN = options.token;
  // Other hosts and TLS, as createInstance() reads them.
  const network = { MESH_HOST: service.host, MESH_ADVERTISE_URL: service.advertiseUrl, MESH_TLS_CERT: service.tlsCert, MESH_TLS_KEY: service.tlsKey, MESH_CA: service.ca ?? manifest.proxy.ca };
  for (const [key, value] of Object.entries(network)) if (value !== undefined) env[key] = value;
  return { service: name, replica, kind: 'native', command: service.command, args: service.args, cwd: service.cwd, env };
}

/**
 * Every process of every enabled service, in manifest order (replicas of a service together).
 * @example planLaunches(manifest, { proxyUrl, node: process.execPath, sidecarScript: scripts.sidecar })
 */
export function planLaunches(manifest: ResolvedManifest, options: PlanOptions): Launch[] {
  const launches: Launch[] = [];
  for (const [name, service] of Object.entries(manifest.services)) {
    if (!service.enabled) continue;
    for (let replica = 0; replica < service.replicas; replica++) {
      launches.push(service.kind === 'native' ? nativeLaunch(name, service, replica, manifest, options) : sidecarLaunch(name, service, replica, manifest, options));
    }
  }
  return launches;
}

/**
 * service → "field: message" for every service that could never start: paths (cwd, command)
 * missing, or a fixed port the proxy or another service takes. Shown failed, not started.
 */
export async function launchProblems(manifest: ResolvedManifest): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  for (const problem of await checkManifestPaths(manifest)) problems.set(problem.service, `${problem.field}: ${problem.message}`);
  for (const problem of checkManifestPorts(manifest)) if (!problems.has(problem.service)) problems.set(problem.service, `port: ${problem.message}`);
  return problems;
}
