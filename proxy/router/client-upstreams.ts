import type { Client, CreateMessageResult, ElicitResult, ListRootsResult } from '@modelcontextprotocol/client';
import { MeshError } from '../../src/errors.js';
import type { RelayTarget } from './relay.js';
import { Upstream } from './upstream.js';
import type { EraVerdicts } from './era-verdicts.js';

interface Entry {
  upstream: Upstream;
  /** The SDK client of the upstream's current connection (to tell it the roots changed). */
  client: Client | undefined;
  lastUsed: number;
}

export interface ClientUpstreamsOptions {
  /** An upstream session unused this long is closed (it is reopened on the next call); default 5 minutes. */
  idleMs?: number;
  /** The clock idle times are measured with (tests move it instead of waiting). */
  now?: () => number;
  /** Largest answer read from an instance (`--max-response-bytes`). */
  maxResponseBytes?: number | undefined;
  /** CAs https instances are verified against. */
  ca?: string[] | undefined;
  /** The proxy's mesh token, sent to instances (see UpstreamSetup). */
  token?: string | undefined;
  /** A remote server's headers, sent instead of the token (see UpstreamSetup). */
  hopHeaders?: ((instanceId: string) => Record<string, string> | undefined) | undefined;
  /** The router's era verdicts: a 2026-07-28 instance is spoken to statelessly, its MRTR input requests answered by the relay handlers. */
  eras?: EraVerdicts;
}

// What a relay session's upstream client hands back to its target: log lines, and the server→client
// requests its client declared (the SDK refuses the others with Method not found).
function wire(client: Client, target: RelayTarget, service: string): void {
  const capabilities = target.capabilities;
  client.setNotificationHandler('notifications/message', (notification) => target.onLog(service, notification.params));
  if (capabilities.sampling) {
    client.setRequestHandler('sampling/createMessage', (request, ctx) => target.onRequest(service, request, ctx.mcpReq.signal) as Promise<CreateMessageResult>);
  }
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', (request, ctx) => target.onRequest(service, request, ctx.mcpReq.signal) as Promise<ElicitResult>);
  }
  if (capabilities.roots) {
    client.setRequestHandler('roots/list', (request, ctx) => target.onRequest(service, request, ctx.mcpReq.signal) as Promise<ListRootsResult>);
  }
}

/**
 * The upstream sessions opened for relay targets (client sessions that declared sampling,
 * elicitation or roots, or set a log level): one per (client session, instance), opened on first
 * use and declaring what that client declared. Closed, and DELETEd at the instance, when the client
 * session closes, when the instance leaves (after its calls in flight), when the router closes, and after `idleMs` unused.
 */
export class ClientUpstreams {
  private readonly byTarget = new Map<RelayTarget, Map<string, Entry>>();
  /** Targets whose client session closed: a request still in flight for one must not reopen its sessions. */
  private readonly closedTargets = new WeakSet<RelayTarget>();
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly maxResponseBytes: number | undefined;
  private readonly ca: string[] | undefined;
  private readonly token: string | undefined;
  private readonly hopHeaders: ClientUpstreamsOptions['hopHeaders'];
  private readonly eras: EraVerdicts | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: ClientUpstreamsOptions = {}) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.maxResponseBytes = options.maxResponseBytes;
    this.ca = options.ca;
    this.token = options.token;
    this.hopHeaders = options.hopHeaders;
    this.eras = options.eras;
  }

  /** How many upstream sessions are open or opening (for tests and stats). */
  get size(): number {
    let count = 0;
    for (const entries of this.byTarget.values()) count += entries.size;
    return count;
  }

  /**
   * The target's own upstream session to an instance of `service`, created on first use.
   * @throws MeshError CALL_CANCELLED when the target's client session has closed
   */
  get(target: RelayTarget, instance: { id: string; url: string }, service: string): Upstream {
    if (this.closedTargets.has(target)) {
      throw new MeshError('CALL_CANCELLED', `the client session ${target.id} closed; its request to ${service} is not sent`, { context: { service } });
    }
    let entries = this.byTarget.get(target);
    if (!entries) {
      entries = new Map();
      this.byTarget.set(target, entries);
    }
    let entry = entries.get(instance.id);
    if (entry && entry.upstream.url !== instance.url) {
      void terminate(entry);
      entry = undefined;
    }
    if (!entry) {
      const created: Entry = { upstream: undefined as unknown as Upstream, client: undefined, lastUsed: 0 };
      created.upstream = new Upstream(instance.url, 'mesh-proxy', undefined, {
        capabilities: target.capabilities,
        maxResponseBytes: this.maxResponseBytes,
        token: this.token,
        ca: this.ca,
        headers: this.hopHeaders?.(instance.id),
        eras: this.eras,
        configure: (client) => {
          created.client = client;
          wire(client, target, service);
        },
      });
      entries.set(instance.id, created);
      entry = created;
      this.sweep();
    }
    entry.lastUsed = this.now();
    return entry.upstream;
  }

  /** Tells the target's upstream sessions that its client's roots changed. */
  rootsChanged(target: RelayTarget): void {
    for (const entry of this.byTarget.get(target)?.values() ?? []) entry.client?.sendRootsListChanged().catch(() => undefined);
  }

  /** The client session closed: its upstream sessions close too. */
  closeTarget(target: RelayTarget): Promise<void> {
    this.closedTargets.add(target);
    const entries = this.byTarget.get(target);
    this.byTarget.delete(target);
    return Promise.all([...(entries?.values() ?? [])].map(terminate)).then(() => undefined);
  }

  /**
   * The instance left (a draining sidecar deregisters first): every target's session to it closes
   * once its calls in flight have finished, as the pooled upstream does (Upstream.retire).
   */
  forget(instanceId: string): void {
    for (const entries of this.byTarget.values()) {
      const entry = entries.get(instanceId);
      if (!entry) continue;
      entries.delete(instanceId);
      entry.upstream.retire(true);
    }
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const all = [...this.byTarget.values()].flatMap((entries) => [...entries.values()]);
    this.byTarget.clear();
    await Promise.all(all.map(terminate));
  }

  /** Closes the sessions unused for idleMs (a busy one counts as used now); the sweeper runs it while there are sessions. */
  sweepIdle(): void {
    const now = this.now();
    for (const [target, entries] of this.byTarget) {
      for (const [instanceId, entry] of entries) {
        if (entry.upstream.inflight > 0) entry.lastUsed = now;
        else if (now - entry.lastUsed >= this.idleMs) {
          entries.delete(instanceId);
          void terminate(entry);
        }
      }
      if (entries.size === 0) this.byTarget.delete(target);
    }
    if (this.byTarget.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  // Runs only while there are sessions.
  private sweep(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(10, Math.min(this.idleMs, 30_000)));
    this.sweeper.unref();
  }
}

// DELETE first, so the instance frees the session now rather than after its own idle timeout.
function terminate(entry: Entry): Promise<void> {
  return entry.upstream.close(true).catch(() => undefined);
}
