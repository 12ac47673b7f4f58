import { join, relative } from 'node:path';
import type { ProxyConfig, ResolvedManifest } from '../../../src/manifest/index.js';
import { CliError } from '../errors.js';
import { runLog, scripts } from '../paths.js';
import { refOf } from '../process-refs.js';
import { waitUntil } from '../../../src/stdio/process-group.js';
import { lastLines } from '../../../src/stdio/stderr-tail.js';
import type { ProxyLocation } from '../proxy-url.js';
import type { RunState } from '../run-state.js';
import { proxyAnswers } from './observe.js';
import { portHolder, type PortHolder } from './port-holder.js';
import { logTail } from '../log-files.js';
import { describeEnd, spawnLogged, type LoggedProcess } from './spawn-logged.js';
import { leanNodeFlags } from './node-flags.js';
import { flagArgs } from './flag-args.js';
import { isPostgresUrl } from '../../../src/manifest/registry-url.js';

// `--proxy URL` decides where the proxy listens; otherwise the manifest's proxy section does.
function listenAddress(location: ProxyLocation, manifest: ResolvedManifest): { host: string; port: number } {
  if (location.source !== 'flag' && location.source !== 'env' && manifest.proxy.url === undefined) return { host: manifest.proxy.host, port: manifest.proxy.port };
  const url = new URL(location.url);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
}

// The manifest as the user would type it from here.
function manifestName(manifest: ResolvedManifest): string {
  return relative(process.cwd(), manifest.source.file) || manifest.source.file;
}

// Where the port came from, so the message names what to change.
function portHeldMessage(holder: Exclude<PortHolder, 'free'>, port: number, location: ProxyLocation, manifest: ResolvedManifest): string {
  const what = location.source === 'flag' ? `--proxy ${location.url}: port ${port}` : location.source === 'env' ? `MESH_PROXY_URL ${location.url}: port ${port}` : `proxy.port ${port}`;
  const fix =
    location.source === 'flag'
      ? 'free it or give --proxy another port'
      : location.source === 'env'
        ? 'free it or set MESH_PROXY_URL to another port'
        : `free it or set proxy.port in ${manifestName(manifest)}`;
  if (holder === 'token-required') return `${what} is held by a server that requires a bearer token (a mesh-proxy started with a token?); set MESH_TOKEN to use it, or ${fix}`;
  return `${what} is in use by another program (not a mesh-proxy); ${fix}`;
}

/**
 * Uses the proxy answering at `location`, or starts one (logs in `logs/proxy.log`) and waits
 * until it answers; throws naming the reason (its log's tail) when it exits first. When `signal`
 * aborts meanwhile it stops waiting and returns the proxy it started, so the caller can stop it.
 * @example const proxy = await ensureProxy(manifest, location, runDir, meshHome, { signal })
 */
export async function ensureProxy(
  manifest: ResolvedManifest,
  location: ProxyLocation,
  runDir: string,
  home: string,
  { timeoutMs = 20_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ state: RunState['proxy']; proc?: LoggedProcess }> {
  // A function, not a narrowed field: the signal aborts while this waits.
  const aborted = () => signal?.aborted === true;
  if ((await proxyAnswers(location.url)) || aborted()) return { state: { url: location.url, from: location.from, started: false } };
  const { host, port } = listenAddress(location, manifest);
  const holder = await portHolder(location.url);
  if (holder !== 'free') throw new CliError(portHeldMessage(holder, port, location, manifest));
  const p = manifest.proxy;
  const mcpUrl = new URL(location.url);
  mcpUrl.port = String(p.mcpPort);
  if (p.mcpPort !== 0 && p.mcpPort !== port && (await portHolder(mcpUrl.origin)) !== 'free') {
    throw new CliError(`proxy.mcpPort ${p.mcpPort} is in use by another program; free it or set proxy.mcpPort in ${manifestName(manifest)} (0 disables the second MCP port)`);
  }
  const log = runLog(runDir, 'proxy');
  const registryUrl = isPostgresUrl(p.registry) ? p.registry : undefined;
  const args = [
    ...leanNodeFlags(),
    scripts.proxy,
    '--host',
    host,
    '--port',
    String(port),
    '--mcp-port',
    String(p.mcpPort),
    // One registry file per proxy port: two meshes on two ports never share one. A PostgreSQL URL
    // (it may hold a password) goes in the environment, never in argv (ps) or the run's log.
    ...(registryUrl ? [] : ['--registry', p.registry ?? join(home, `registry-${port}.sqlite`)]),
    '--heartbeat-interval',
    String(p.heartbeatInterval),
    '--heartbeat-timeout',
    String(p.heartbeatTimeout),
    '--deadline',
    String(p.deadline),
    ...limitArgs(p),
    ...circuitArgs(p.circuit),
    ...otherHostArgs(p),
    // The proxy reads the manifest's views itself, so a proxy restarted by the run serves them again.
    '--manifest',
    manifest.source.file,
  ];
  const proc = spawnLogged(process.execPath, args, { log, cwd: manifest.source.dir, ...(registryUrl && { env: { ...process.env, MESH_REGISTRY: registryUrl } }) });
  let ended: string | undefined;
  void proc.then((result) => (ended = describeEnd(result)));
  let answering = false;
  await waitUntil(async () => ended !== undefined || aborted() || (answering = await proxyAnswers(location.url, 1_000)), timeoutMs, 100);
  // A pid of 0 would make the whole state file invalid; without a pid there is nothing to stop.
  const started: RunState['proxy'] = { url: location.url, from: location.from, started: true, log, ...(proc.pid === undefined ? {} : { process: refOf(proc.pid) }) };
  if (ended === undefined && (answering || aborted())) return { state: started, proc };
  if (ended === undefined) proc.kill('SIGKILL');
  throw new CliError(
    `the mesh-proxy for ${location.url} did not start (${ended ?? `no answer within ${timeoutMs / 1000} s`}); its log (${log}):\n  ${lastLines(logTail(log), 3, '\n  ') || '(empty)'}`,
  );
}

/** The manifest's `proxy.circuit` as mesh-proxy flags; what it leaves out keeps mesh-proxy's defaults. */
export function circuitArgs(circuit: ProxyConfig['circuit']): string[] {
  if (!circuit) return [];
  return flagArgs({
    '--eject-after': circuit.ejectAfter,
    '--ejection-time': circuit.ejectionTime,
    '--max-ejection-time': circuit.maxEjectionTime,
    '--max-ejection-percent': circuit.maxEjectionPercent,
  });
}

/** The manifest's TLS and other-host settings as mesh-proxy flags (README, "Other hosts"). */
export function otherHostArgs(proxy: ProxyConfig): string[] {
  return [
    ...flagArgs({ '--tls-cert': proxy.tlsCert, '--tls-key': proxy.tlsKey, '--ca': proxy.ca }),
    ...(proxy.allowInstances && proxy.allowInstances.length > 0 ? ['--allow-instances', proxy.allowInstances.join(',')] : []),
    ...(proxy.allowPlainHttp === true ? ['--allow-plain-http'] : []),
  ];
}

/** The manifest's proxy limits as mesh-proxy flags; what it leaves out keeps mesh-proxy's defaults. */
export function limitArgs(proxy: ProxyConfig): string[] {
  return flagArgs({
    '--drain-timeout': proxy.drainTimeout,
    '--session-idle-timeout': proxy.sessionIdleTimeout,
    '--max-sessions': proxy.maxSessions,
    '--max-response-bytes': proxy.maxResponseBytes,
    '--separator': proxy.separator,
  });
}
