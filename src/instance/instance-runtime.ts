import type { Tool } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import { createModernEndpoint } from '../era/modern-endpoint.js';
import { createInstanceServer, type InstanceServer, type InstanceServerOptions } from '../http/instance-server.js';
import { newClaim } from '../http/lease.js';
import { listenOnFreePort, type PortRange } from '../http/ports.js';
import type { Logger } from '../log.js';
import { RegistrationClient } from './registration.js';
import { advertisedUrl } from './advertise-url.js';
import type { ServerTls } from '../http/tls-trust.js';

/** What a sidecar and a native instance both are once their MCP server sits behind a bridge. */
export interface InstanceRuntimeOptions {
  name: string;
  kind: 'sidecar' | 'native';
  version: string;
  tags: string[];
  host: string;
  /** Port to bind (0: any free port); default: the first free port of `portRange`. */
  port?: number | undefined;
  portRange: PortRange;
  allowedHosts: string[];
  /** The mesh token: required on every request to the instance, sent to the proxy. */
  token?: string | undefined;
  sessionIdleMs?: number | undefined;
  maxSessions?: number | undefined;
  log: Logger;
  bridge: Bridge;
  /** Body of GET /healthz. */
  health: () => { state: string };
  /** What the server behind the bridge speaks (a sidecar's child, as probed); default legacy (a native instance's in-process server). */
  childEra?: () => 'modern' | 'legacy' | undefined;
  /** The served tools now (for the modern endpoint's Mcp-Param-* header checks). */
  tools?: () => readonly Tool[];
  /** Serve HTTPS with this certificate and key. */
  tls?: ServerTls | undefined;
  /** CAs an https proxy is verified against (readCa: `--ca` plus the system store). */
  ca?: string[] | undefined;
  /** The URL registered with the proxy (`--advertise-url`); default derived from `host` (advertise-url.ts). */
  advertiseUrl?: string | undefined;
}

/** What the registration tells the proxy that changes while the instance runs (read at every beat). */
export interface RegistrationFacts {
  tools: Tool[];
  toolsHash: string;
  state: string;
  /** Restarts of the child (a sidecar's): sent in heartbeats, not in the registration. */
  restarts?: number;
}

/** The status of the instance's registration, as /healthz shows it. */
export interface ProxyStatus {
  url: string;
  registered: boolean;
  lastError: string | undefined;
}

/**
 * The part of an instance that does not depend on what serves MCP behind its bridge (a child
 * process or in-process tools): the HTTP endpoint on a free port, joining the mesh, and the stop
 * order (deregister first, so the proxy stops routing here, then drain the calls in flight).
 */
export class InstanceRuntime {
  readonly url: string;
  readonly port: number;
  readonly server: InstanceServer;
  registration: RegistrationClient | undefined;
  /** Proves a registration of our id comes from this process (lease.ts): sent to the proxy, only its digest shown at /healthz. */
  private readonly claim: string;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: InstanceRuntimeOptions,
    server: InstanceServer,
    port: number,
    claim: string,
  ) {
    this.server = server;
    this.port = port;
    this.claim = claim;
    // The URL the proxy calls (and the id names): another host cannot call 0.0.0.0.
    this.url = advertisedUrl({ host: options.host, port, tls: options.tls !== undefined, advertiseUrl: options.advertiseUrl });
  }

  /** Serves /mcp and /healthz on a free port of the range (or the given port). */
  static async listen(options: InstanceRuntimeOptions): Promise<InstanceRuntime> {
    const claim = newClaim();
    const serverOptions: InstanceServerOptions = {
      bridge: options.bridge,
      // Both eras on one URL: 2026-07-28 requests are served statelessly through the same bridge.
      modern: createModernEndpoint({ bridge: options.bridge, name: options.name, log: options.log.child('modern'), childEra: options.childEra, tools: options.tools }),
      health: options.health,
      claim,
      token: options.token,
      log: options.log,
      bindHost: options.host,
      // The host of the URL it registers is a name it answers to (the proxy calls that URL).
      allowedHosts: [...options.allowedHosts, new URL(advertisedUrl({ host: options.host, port: 1, tls: options.tls !== undefined, advertiseUrl: options.advertiseUrl })).hostname],
      sessionIdleMs: options.sessionIdleMs,
      maxSessions: options.maxSessions,
      tls: options.tls,
    };
    const server = createInstanceServer(serverOptions);
    const port = await listenOnFreePort(server.server, options.host, options.port, options.portRange);
    return new InstanceRuntime(options, server, port, claim);
  }

  /** The host and port of the URL registered (the advertised one). */
  private get advertised(): { host: string; port: number } {
    const url = new URL(this.url);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
  }

  /** The id the instance registers under: one per service, host and port (as advertised). */
  get id(): string {
    const { host, port } = this.advertised;
    return `${this.options.name}.${host}.${port}`.replace(/[^A-Za-z0-9_.:-]/g, '_');
  }

  /** Registers with the proxy and keeps the registration alive (heartbeat, re-registration); a missing proxy only delays joining. */
  join(proxyUrl: string | readonly string[], facts: () => RegistrationFacts, heartbeatMs?: number): RegistrationClient {
    const o = this.options;
    const { host, port } = this.advertised;
    this.registration = new RegistrationClient({
      proxyUrl,
      ca: o.ca,
      token: o.token,
      claim: this.claim,
      intervalMs: heartbeatMs,
      log: o.log.child('registry'),
      describe: () => {
        const { restarts: _restarts, ...registered } = facts();
        return { id: this.id, name: o.name, url: this.url, host, port, pid: process.pid, tags: o.tags, version: o.version, kind: o.kind, ...registered };
      },
      restarts: () => facts().restarts ?? 0,
    });
    this.registration.start();
    return this.registration;
  }

  /** The registration's state for /healthz; undefined when standalone. */
  proxyStatus(): ProxyStatus | undefined {
    const r = this.registration;
    return r && { url: r.base, registered: r.registered, lastError: r.lastError };
  }

  /** Deregisters, then refuses new requests and lets those in flight finish up to `drainMs`. */
  stop(drainMs?: number): Promise<void> {
    this.stopping ??= (async () => {
      await this.registration?.stop();
      await this.server.close(drainMs);
    })();
    return this.stopping;
  }
}

/** The call counters both kinds of instance show at /healthz. */
export function bridgeHealth(bridge: Bridge | undefined): { sessions: number; inflight: number; calls: { forwarded: number; failed: number; timeouts: number } } {
  const stats = bridge?.stats;
  return {
    sessions: stats?.sessions ?? 0,
    inflight: stats?.inflight ?? 0,
    calls: { forwarded: stats?.forwarded ?? 0, failed: stats?.failed ?? 0, timeouts: stats?.timeouts ?? 0 },
  };
}
