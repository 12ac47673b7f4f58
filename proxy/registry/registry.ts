import { MeshError } from '../../src/errors.js';
import type { AuditFilter, AuditListener, AuditEntry, AuditRecord } from './audit-log.js';
import { RegistryEmitter, type LeftEvent, type LeftReason, type RegistryEvents } from './events.js';
import { HealthTracker } from './health.js';
import { InstanceIndex } from './instance-index.js';
import type { DroppedRow, InstanceRecord } from './instance-store.js';
import type { Recovery } from './open-database.js';
import { assertLease, assertMayRegister, assertMayTakeOver, leaseFor, needsClaim } from './ownership.js';
import { resolveRegistryOptions, type RegistryOptions, type ResolvedRegistryOptions } from './options.js';
import { collectStats, emptyStatusCounts } from './registry-stats.js';
import { applyRemote, loadEntries } from './remote-apply.js';
import { openStore } from './store/open-store.js';
import { storedWithin, type LoadResult, type RegistryStore } from './store/store-types.js';
import { HeartbeatSchema, type HeartbeatInput } from '../../src/contract/heartbeat.js';
import type { Registration, RegistrationInput } from '../../src/contract/registration.js';
import { type ChildState, type InstanceStatus } from '../../src/contract/states.js';
import type { Tool } from '../../src/contract/tool.js';
import { parseOrThrow } from '../../src/contract/zod-message.js';
import { registrationSchema } from './schemas.js';
import { RegistrationSchema as AnyHostRegistrationSchema } from '../../src/contract/registration.js';
import type { RegisterResult, RegistryStats, ServiceFilter, SweepResult } from './registry-types.js';
import { isExpired, isLive, type HealthPolicy } from './status.js';
import { deepFreeze, representative, toServiceSummary, toView, type Entry, type InstanceView, type ServiceSummary } from './views.js';

export type { RegisterResult, RegistryStats, ServiceFilter, SweepResult } from './registry-types.js';

/**
 * The mesh-proxy's registry: instances and their tools in memory (every read), persisted by a store
 * (a sql.js file, coalesced and crash-safe; or PostgreSQL shared by several proxies, whose changes
 * arrive here by LISTEN/NOTIFY), health derived from heartbeat times, an audit trail, events.
 * @example
 * const registry = await Registry.open({ file: '/home/me/.mesh/registry.db' });
 * if (registry.recovered) log.warn(`registry file was corrupt; moved to ${registry.recovered.movedTo}; starting empty`);
 * registry.on('left', (e) => log.info(`${e.service}/${e.instance} left: ${e.reason}`));
 * registry.register(body); registry.heartbeat(id, beat); registry.services({ status: 'healthy' });
 */
export class Registry {
  private readonly entries = new InstanceIndex();
  /** The event listeners (`registry.events.on('left', …)`; same as `registry.on`). */
  readonly events: RegistryEmitter;
  private readonly policy: HealthPolicy;
  private readonly health: HealthTracker;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly schema: ReturnType<typeof registrationSchema>;
  private closed = false;
  /**
   * Routed calls per live service since its first replica joined (memory only; `mesh ls` shows them).
   * Only services with a replica have a count, so calls naming unknown services cannot grow it.
   */
  private readonly callCounts = new Map<string, number>();

  /** Set when the registry file was unusable, was moved aside, and the registry started empty. */
  readonly recovered: Recovery | undefined;
  /** Stored rows that no longer validated and were deleted on load. */
  readonly droppedRows: readonly DroppedRow[];

  /**
   * Opens a registry on its store: a file (its lock taken, loaded or quarantined; created on the
   * first change), memory only, or a PostgreSQL URL (`registry: 'postgres://…'`: schema migrated,
   * other proxies' changes followed). Loaded instances count as heard from at most one heartbeat
   * interval ago, so a proxy restart never expires live services.
   * @throws MeshError when another live process holds the registry file; Error when PostgreSQL cannot be reached
   */
  static async open(options: RegistryOptions = {}): Promise<Registry> {
    const resolved = resolveRegistryOptions(options);
    const store = await openStore(resolved);
    try {
      return new Registry(resolved, store, await store.load(resolved.url === undefined ? registrationSchema({ allowInstances: resolved.allowInstances }) : AnyHostRegistrationSchema));
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  private constructor(
    private readonly options: ResolvedRegistryOptions,
    private readonly store: RegistryStore,
    loaded: LoadResult,
  ) {
    this.recovered = store.recovered;
    this.events = new RegistryEmitter(options.logger);
    this.policy = options;
    this.health = new HealthTracker(options, this.entries, this.events);
    this.schema = registrationSchema({ allowInstances: options.allowInstances });
    this.droppedRows = loaded.dropped;
    const { entries, health, events, policy } = this;
    const target = { entries, health, events, policy, now: options.now, drop: (e: Entry, why: LeftReason, by?: string) => this.remove(e, why, by, false) };
    loadEntries(target, loaded.records);
    store.listen((change) => applyRemote(target, change));
    this.sweeper = options.sweepIntervalMs > 0 ? setInterval(() => this.sweep(), options.sweepIntervalMs).unref() : undefined;
  }

  /**
   * Subscribes to `joined`, `left`, `status` or `tools`; returns the unsubscribe function.
   * @example registry.on('status', (e) => sse.send(e))
   */
  on<K extends keyof RegistryEvents>(name: K, listener: (event: RegistryEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /**
   * Registers an instance, or updates it when its id is known (idempotent per id), and answers with
   * its lease. A re-registration carrying the current lease keeps it; any other gets a new one, and
   * the previous holder's beats are refused from then on (see README, "Instance leases").
   * A live id without its lease is taken only with `claimProven` (the caller saw the body's claim
   * at the instance's /healthz: see `needsClaim`) and only in state starting or ready.
   * Validates the body strictly: unknown fields (`command`, `args`, `env`…) are refused, naming the field.
   * @throws MeshError BAD_REQUEST naming every invalid field, CONFLICT naming the owner
   */
  register(input: RegistrationInput | unknown, presentedLease?: string, proof: { claimProven?: boolean; anyHost?: boolean } = {}): RegisterResult {
    const admitted = this.admit(input, presentedLease, proof);
    const now = this.options.now();
    assertMayTakeOver(this.entries, admitted, presentedLease, proof.claimProven === true, now, this.policy);
    // The claim is a proof for this registration only: never stored, shown or logged.
    const { claim: _claim, ...registration } = admitted;
    const existing = this.entries.get(registration.id);
    const lease = leaseFor(existing, presentedLease, existing !== undefined && isLive(existing, now, this.policy), this.options.logger);
    const sameUrl = this.entries.idAtUrl(registration.url);
    if (sameUrl !== undefined && sameUrl !== registration.id) {
      const stale = this.entries.get(sameUrl);
      if (stale) this.remove(stale, 'replaced');
    }
    const record: InstanceRecord = deepFreeze({ ...registration, registeredAt: existing?.record.registeredAt ?? now, updatedAt: now, lease });
    if (existing && existing.record.name !== record.name) this.remove(existing, 'renamed');
    this.store.upsert(record);
    const previous = this.entries.get(record.id);
    if (!previous) {
      const entry = this.health.newEntry(record, now);
      this.entries.add(entry);
      this.events.emit({ type: 'joined', ...this.health.eventBase(entry, now), url: record.url });
      return { instance: toView(entry), created: existing === undefined, lease };
    }
    const previousHash = previous.record.toolsHash;
    const previousUrl = previous.record.url;
    previous.record = record;
    this.entries.moveUrl(previous, previousUrl);
    previous.lastHeartbeat = now;
    previous.state = record.state ?? 'ready';
    this.refresh(previous, now, 'register');
    if (previousHash !== record.toolsHash) {
      this.events.emit({ type: 'tools', ...this.health.eventBase(previous, now), toolsHash: record.toolsHash, previousHash, toolCount: record.tools.length });
    }
    return { instance: toView(previous), created: false, lease };
  }

  /**
   * Checks a registration without registering it (register_service checks before it contacts the
   * URL): the body must be valid, its id and url must not belong to another live service, and a
   * live id moves to another url only with its lease. `anyHost`: a remote server of the proxy's own config.
   * @throws MeshError BAD_REQUEST naming every invalid field, CONFLICT naming the owner
   */
  admit(input: RegistrationInput | unknown, lease?: string, options: { anyHost?: boolean } = {}): Registration {
    this.assertOpen();
    const registration = parseOrThrow(options.anyHost === true ? AnyHostRegistrationSchema : this.schema, input, 'registration');
    assertMayRegister(this.entries, registration, lease, this.options.now(), this.policy);
    return registration;
  }

  /**
   * True when registering this (admitted) registration needs its claim confirmed first: its id is
   * live and it does not carry that id's lease.
   */
  needsClaim(registration: Registration, lease: string | undefined): boolean {
    return needsClaim(this.entries, registration, lease, this.options.now(), this.policy);
  }

  /**
   * Refuses taking a live id without its lease: always in a state other than starting/ready, and
   * without `claimProven` (see `register`).
   * @throws MeshError CONFLICT naming the problem
   */
  assertMayTakeOver(registration: Registration, lease: string | undefined, claimProven: boolean): void {
    assertMayTakeOver(this.entries, registration, lease, claimProven, this.options.now(), this.policy);
  }

  /**
   * Notes a heartbeat from the holder of the instance's lease; only memory changes unless the
   * child's state changed.
   * @returns the instance, or undefined when the id is unknown (the sidecar should re-register)
   * @throws MeshError BAD_REQUEST for an invalid beat, CONFLICT for a missing or wrong lease
   */
  heartbeat(id: string, beat: HeartbeatInput | unknown, lease: string | undefined): InstanceView | undefined {
    this.assertOpen();
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const parsed = parseOrThrow(HeartbeatSchema, beat, 'heartbeat');
    // A beat speaks for its own instance only: one naming another service is not its owner's.
    if (parsed.name !== undefined && parsed.name !== entry.record.name) {
      throw new MeshError('CONFLICT', `instance "${id}" belongs to service "${entry.record.name}", not "${parsed.name}": register again`, {
        context: { id, owner: entry.record.name },
      });
    }
    assertLease(entry, lease, 'heartbeat');
    const now = this.options.now();
    entry.lastHeartbeat = now;
    this.store.beat(id);
    if (parsed.inflight !== undefined) entry.inflight = parsed.inflight;
    if (parsed.calls !== undefined) entry.calls = parsed.calls;
    if (parsed.restarts !== undefined) entry.restarts = parsed.restarts;
    if (parsed.state !== undefined && parsed.state !== entry.state) this.storeState(entry, parsed.state, now);
    this.refresh(entry, now, 'heartbeat');
    return toView(entry);
  }

  /**
   * Removes an instance at once (a clean sidecar exit), for the holder of its lease or for an
   * operator (`{ operator: caller }`: deregister_service under the mesh token; logged, and named in
   * the `left` event). False when the id is unknown.
   * @throws MeshError CONFLICT for a missing or wrong lease
   */
  deregister(id: string, proof: { lease: string | undefined } | { operator: string }): boolean {
    this.assertOpen();
    const entry = this.entries.get(id);
    if (!entry) return false;
    if ('operator' in proof) {
      this.options.logger.warn(`instance "${id}" of service "${entry.record.name}" removed by operator "${proof.operator}" (deregister_service, without its lease)`);
      this.remove(entry, 'deregistered', proof.operator);
    } else {
      assertLease(entry, proof.lease, 'deregistration');
      this.remove(entry, 'deregistered');
    }
    return true;
  }

  /** One instance with its tools, or undefined. */
  instance(id: string): InstanceView | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.refresh(entry, this.options.now(), 'heartbeat-timeout');
    return toView(entry);
  }

  /**
   * Every service, sorted by name, optionally only those in one status or carrying one tag.
   * @example registry.services({ status: 'healthy', tag: 'python' })
   */
  services(filter: ServiceFilter = {}): ServiceSummary[] {
    const now = this.options.now();
    const names = filter.names ?? this.entries.names();
    const result: ServiceSummary[] = [];
    for (const name of names) {
      const summary = this.summarize(name, now);
      if (!summary) continue;
      if (filter.status !== undefined && summary.status !== filter.status) continue;
      if (filter.tag !== undefined && !summary.tags.includes(filter.tag)) continue;
      result.push(summary);
    }
    return result;
  }

  /** One service with its replicas, or undefined when no instance has that name. */
  service(name: string): ServiceSummary | undefined {
    return this.summarize(name, this.options.now());
  }

  /** The names of every registered service, sorted. */
  serviceNames(): string[] {
    return this.entries.names();
  }

  /** Every replica of a service, whatever its status; empty for an unknown service. */
  instances(name: string): InstanceView[] {
    return this.health.replicas(name, this.options.now()).map(toView);
  }

  /** The replicas of a service that may be routed to. */
  healthyInstances(name: string): InstanceView[] {
    return this.health
      .replicas(name, this.options.now())
      .filter((e) => e.status === 'healthy')
      .map(toView);
  }

  /** A service's tools (from a healthy replica if any), or undefined for an unknown service. */
  tools(name: string): readonly Tool[] | undefined {
    return representative(this.health.replicas(name, this.options.now()))?.record.tools;
  }

  /** Recomputes every status from heartbeat ages and removes instances silent for too long. */
  sweep(): SweepResult {
    const result: SweepResult = { changed: [], removed: [] };
    if (this.closed) return result;
    const now = this.options.now();
    for (const entry of [...this.entries.values()]) {
      if (isExpired(entry, now, this.policy)) result.removed.push(this.remove(entry, 'expired'));
      else {
        const event = this.health.refresh(entry, now, 'heartbeat-timeout');
        if (event) result.changed.push(event);
      }
    }
    return result;
  }

  /** Records a routed call; buffered, inserted in batches off the caller's path. */
  audit(record: AuditRecord): void {
    if (this.closed) return;
    this.store.audit.add(record);
    if (this.entries.hasName(record.service)) this.callCounts.set(record.service, (this.callCounts.get(record.service) ?? 0) + 1);
  }

  /** True while the instance is registered (a cheap check for per-call paths). */
  hasInstance(id: string): boolean {
    return this.entries.get(id) !== undefined;
  }

  /** True while some instance serves `name` (a cheap check for per-call paths). */
  hasService(name: string): boolean {
    return this.entries.hasName(name);
  }

  /** The newest audit entries, filtered (GET /v1/audit); on PostgreSQL, every proxy's. */
  recentAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    this.assertOpen();
    return this.store.audit.recent(filter);
  }

  /** Subscribes to every audit row as its batch is stored (the live `call` events); returns the unsubscribe function. */
  onAudit(listener: AuditListener): () => void {
    return this.store.audit.onEntry(listener);
  }

  /** How many instances are in each status (for metrics gauges). */
  countByStatus(): Record<InstanceStatus, number> {
    const counts = emptyStatusCounts();
    const now = this.options.now();
    for (const entry of this.entries.values()) counts[this.refresh(entry, now, 'heartbeat-timeout')]++;
    return counts;
  }

  /** Counts, store and file figures. */
  stats(): RegistryStats {
    const audit = this.closed ? { rows: 0, pending: 0 } : { rows: this.store.audit.count(), pending: this.store.audit.pending };
    return { ...collectStats(this.entries, this.store.writeStats(), audit), evictions: this.store.evictions, store: this.store.health() };
  }

  /**
   * Resolves when every change made so far is stored (at once for sql.js, whose file follows
   * coalesced), or after `timeoutMs`: an unreachable database delays an answer, never blocks it.
   * @returns true when stored, false when the wait timed out (the change stays queued and is replayed)
   */
  durable(timeoutMs = 5_000): Promise<boolean> {
    return storedWithin(this.store, timeoutMs);
  }

  /** Inserts pending audit records and writes the file (or the queued changes) now. */
  async flush(): Promise<void> {
    if (this.closed) return;
    await this.store.flush();
  }

  /** Flushes, stops timers, closes the store (and releases the file lock). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    try {
      await this.store.close();
    } finally {
      this.closed = true;
    }
  }

  // After close() the database is gone; a late call must fail loudly, not corrupt state.
  private assertOpen(): void {
    if (this.closed) throw new MeshError('INTERNAL', 'the registry is closed');
  }

  // Deleting from the store, the indexes and telling listeners always go together (another proxy's deletion: not stored again).
  private remove(entry: Entry, reason: LeftReason, by?: string, persist = true): LeftEvent {
    if (persist) this.store.delete(entry.record.id, reason, by);
    this.entries.delete(entry);
    if (!this.entries.hasName(entry.record.name)) this.callCounts.delete(entry.record.name);
    const now = this.options.now();
    const event: LeftEvent = { type: 'left', ...this.health.eventBase(entry, now), reason, ...(by === undefined ? {} : { by }) };
    this.events.emit(event);
    return event;
  }

  // Child state survives a proxy restart (a crash-looping child stays unrouted), so it is stored.
  private storeState(entry: Entry, state: ChildState, now: number): void {
    entry.state = state;
    entry.record = deepFreeze({ ...entry.record, state, updatedAt: now });
    this.store.setState(entry.record.id, state, now);
  }

  // Status is a function of time: every read re-derives it (and announces any change).
  private refresh(entry: Entry, now: number, reason: string): InstanceStatus {
    this.health.refresh(entry, now, reason);
    return entry.status;
  }

  // One service's summary with fresh statuses; undefined once its last replica is gone.
  private summarize(name: string, now: number): ServiceSummary | undefined {
    const replicas = this.health.replicas(name, now);
    return replicas.length === 0 ? undefined : toServiceSummary(name, replicas, this.callCounts.get(name) ?? 0);
  }
}
