import { Bridge } from '../src/bridge/bridge.js';
import { MeshError } from '../src/errors.js';
import { createLogger, type Logger } from '../src/log.js';
import type { InstanceServer } from '../src/http/instance-server.js';
import { tokenRequiredFor } from '../src/http/bearer-token.js';
import type { PortRange } from '../src/http/ports.js';
import type { ServerTls } from '../src/http/tls-trust.js';
import { bridgeHealth, InstanceRuntime } from '../src/instance/instance-runtime.js';
import type { RegistrationClient } from '../src/instance/registration.js';
import type { ChildCommand } from '../src/stdio/child-transport.js';
import { Supervisor, type ChildState, type RestartPolicy } from './supervisor.js';
import type { ChildEra } from '../src/stdio/child-era.js';
import { serveControl } from './control.js';

export interface SidecarOptions extends ChildCommand {
  name: string;
  host: string;
  port?: number | undefined;
  portRange: PortRange;
  /** mesh-proxy base URL(s) to register with (one at a time, failing over in order); undefined runs standalone. */
  proxy?: string | readonly string[] | undefined;
  /** Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`). */
  tls?: ServerTls | undefined;
  /** CAs an https proxy is verified against (readCa: `--ca` plus the system store). */
  ca?: string[] | undefined;
  /** The URL registered with the proxy (`--advertise-url`); default derived from `host`. */
  advertiseUrl?: string | undefined;
  /** Bearer token the proxy requires (its --token). */
  token?: string | undefined;
  heartbeatMs?: number;
  tags: string[];
  allowedHosts: string[];
  deadlineMs: number;
  version: string;
  log?: Logger;
  stopGraceMs?: number;
  /** MCP sessions idle this long are closed (default 30 min). */
  sessionIdleMs?: number;
  /** Cap of open MCP sessions (default 1,000). */
  maxSessions?: number;
  /** On stop, how long calls in flight may finish before they are cut (default 15 s). */
  drainTimeoutMs?: number;
  /** Aborting it while the child is still starting stops the child (its whole group) and makes startSidecar reject. */
  signal?: AbortSignal;
  /** Aborting it SIGKILLs the child's process group synchronously (for a sidecar about to exit at once). */
  killSignal?: AbortSignal;
  /** Cap of one message from the child (one stdout line), in bytes. */
  maxMessageBytes?: number;
  /** How long the child may stay silent on the server/discover probe before it counts as legacy (default 10,000 ms). */
  probeTimeoutMs?: number;
  /** `legacy`: speak initialize to the child without probing (default `auto`). */
  childEra?: 'auto' | 'legacy';
  backoff?: { initialMs: number; maxMs: number };
  restartPolicy?: RestartPolicy;
  /** Crashes within `crashWindowMs` beyond which the child is a crash loop. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** Bearer token of POST /control/restart (given by `mesh up`); without one the route does not exist. */
  controlToken?: string | undefined;
}

export interface Sidecar {
  url: string;
  port: number;
  supervisor: Supervisor;
  bridge: Bridge;
  server: InstanceServer;
  registration: RegistrationClient | undefined;
  health(): SidecarHealth;
  stop(): Promise<void>;
}

export interface SidecarHealth {
  name: string;
  state: ChildState;
  url: string;
  pid: number | undefined;
  sidecarPid: number;
  tools: number;
  toolsHash: string;
  uptime: number;
  restarts: number;
  /** Crashes within the crash window (a planned restart is not one). */
  crashes: number;
  sessions: number;
  inflight: number;
  calls: { forwarded: number; failed: number; timeouts: number };
  junkLines: number;
  /** The MCP era the child speaks (found with server/discover at each start); undefined before its first answer. */
  childEra: ChildEra | undefined;
  /** How the era was found (answer, timeout, exit, skipped) and the probe's time in ms. */
  probe: { outcome: string | undefined; ms: number | undefined };
  lastExit: unknown;
  lastError: string | undefined;
  tags: string[];
  proxy: { url: string; registered: boolean; lastError: string | undefined } | undefined;
}

/**
 * Starts a sidecar: the child (initialized, tools listed), then the HTTP endpoint on a free port.
 * A child that fails to start does not stop the sidecar: it serves /healthz and keeps retrying.
 */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const unprotected = tokenRequiredFor(options.host, options.token, 'this sidecar', '--token (or MESH_TOKEN)');
  if (unprotected) throw new MeshError('BAD_REQUEST', unprotected);
  const log = options.log ?? createLogger(options.name);
  const startedAt = Date.now();
  const bridge = new Bridge({
    name: options.name,
    deadlineMs: options.deadlineMs,
    log: log.child('bridge'),
    onChildNotification: (notification) => {
      if (notification.method === 'notifications/tools/list_changed' && supervisor.state === 'ready') {
        supervisor.refreshTools().catch((error: Error) => log.warn(`cannot refresh tools: ${error.message}`));
      }
    },
  });
  const supervisor: Supervisor = new Supervisor({
    name: options.name,
    command: options.command,
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    bridge,
    log,
    version: options.version,
    stopGraceMs: options.stopGraceMs,
    maxMessageBytes: options.maxMessageBytes,
    probeTimeoutMs: options.probeTimeoutMs,
    childEra: options.childEra,
    backoff: options.backoff,
    restartPolicy: options.restartPolicy,
    maxCrashes: options.maxCrashes,
    crashWindowMs: options.crashWindowMs,
    onStateChange: (state) => {
      log.info(`state ${state}`);
      runtime?.registration?.beatNow();
    },
    onToolsChanged: () => runtime?.registration?.refresh(),
  });
  let runtime: InstanceRuntime | undefined;

  const health = (): SidecarHealth => ({
    name: options.name,
    state: supervisor.state,
    url: runtime?.url ?? '',
    pid: supervisor.pid,
    sidecarPid: process.pid,
    tools: supervisor.tools.length,
    toolsHash: supervisor.toolsHash,
    uptime: Math.round((Date.now() - startedAt) / 1000),
    restarts: supervisor.restarts,
    crashes: supervisor.crashCount,
    ...bridgeHealth(bridge),
    junkLines: supervisor.junkLines,
    childEra: supervisor.childEra,
    probe: supervisor.probe,
    lastExit: supervisor.lastExit,
    lastError: supervisor.lastError,
    tags: options.tags,
    proxy: runtime?.proxyStatus(),
  });

  // For the whole life of the sidecar: its second signal exits at once, after SIGKILLing the child's group.
  options.killSignal?.addEventListener('abort', () => supervisor.killNow(), { once: true });
  // A stop asked for during a slow first start (npx, uvx) ends the child's group now, not after it initialized.
  const abort = () => void supervisor.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  await supervisor.start();
  options.signal?.removeEventListener('abort', abort);
  if (options.signal?.aborted) {
    await supervisor.stop();
    bridge.close();
    throw new MeshError('CALL_CANCELLED', `${options.name}: stopped while the server was starting`, { context: { service: options.name } });
  }
  try {
    runtime = await InstanceRuntime.listen({
      name: options.name,
      kind: 'sidecar',
      version: options.version,
      tags: options.tags,
      host: options.host,
      port: options.port,
      portRange: options.portRange,
      allowedHosts: options.allowedHosts,
      token: options.token,
      sessionIdleMs: options.sessionIdleMs,
      maxSessions: options.maxSessions,
      log,
      bridge,
      health,
      childEra: () => supervisor.childEra,
      tools: () => supervisor.tools,
      tls: options.tls,
      ca: options.ca,
      advertiseUrl: options.advertiseUrl,
    });
  } catch (error) {
    await supervisor.stop();
    bridge.close();
    throw error;
  }
  const instance = runtime;
  const { server, url, port } = instance;
  if (options.controlToken) serveControl(server, options.controlToken, supervisor, log);
  // The registry knows no `exited`: a child left stopped by its restart policy is not routable.
  const registration =
    options.proxy !== undefined && options.proxy.length > 0
      ? instance.join(
          options.proxy,
          () => ({ tools: supervisor.tools, toolsHash: supervisor.toolsHash, state: supervisor.state === 'exited' ? 'crashloop' : supervisor.state, restarts: supervisor.restarts }),
          options.heartbeatMs,
        )
      : undefined;

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    supervisor,
    bridge,
    server,
    registration,
    health,
    stop() {
      stopping ??= (async () => {
        await instance.stop(options.drainTimeoutMs);
        await supervisor.stop();
        bridge.close();
      })();
      return stopping;
    },
  };
}
