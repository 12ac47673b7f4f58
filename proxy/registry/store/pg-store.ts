import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { LeftReason } from '../events.js';
import { recordFromRow, type DroppedRow, type InstanceRecord } from '../instance-store.js';
import type { ResolvedRegistryOptions } from '../options.js';
import type { RegistrationSchema } from '../../../src/contract/registration.js';
import type { ChildState } from '../../../src/contract/states.js';
import { PgAuditStore } from './pg-audit.js';
import { PgListener } from './pg-listen.js';
import { migrate } from './pg-migrations.js';
import type { Notice } from './pg-notice.js';
import { PgWriteQueue, type PgOp } from './pg-queue.js';
import { redactError, redactUrl } from './pg-url.js';
import type { LoadedRecord, LoadResult, RegistryStore, RemoteChange, StoreHealth } from './store-types.js';

const COLUMNS = 'id, name, url, host, port, pid, tags, tools, tools_hash, version, kind, state, resources, prompts, registered_at, updated_at, lease, proxy_id';
const UPSERT = `INSERT INTO instances (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
  ON CONFLICT (id) DO UPDATE SET ${COLUMNS.split(', ')
    .slice(1)
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')}, last_seen = now(), rev = instances.rev + 1
  RETURNING rev`;
// Ages come from the server's clock: proxies on several machines agree on them whatever their own clocks say.
const SELECT = `SELECT *, (extract(epoch FROM now() - last_seen) * 1000)::float8 AS age_ms FROM instances`;
const BEATS = `UPDATE instances AS i SET last_seen = now(), rev = i.rev + 1 FROM unnest($1::text[]) AS b(id) WHERE i.id = b.id RETURNING i.id, i.rev`;
/** Heartbeats are written once per this many ms (one UPDATE and one NOTIFY per batch). */
export const BEAT_BATCH_MS = 250;

type Row = Record<string, unknown>;

/** What the PostgreSQL store needs beyond the registry's options. */
export interface PgStoreOptions {
  url: string;
  /** Names this proxy in audit rows and in the rows it wrote. */
  proxyId: string;
}

/**
 * The registry in PostgreSQL, shared by any number of proxies: rows written in order through a
 * batched queue (retried across outages), other proxies' changes arriving by LISTEN/NOTIFY, and a
 * reload of the whole table after any reconnect (a notice may have been missed meanwhile).
 */
export class PgStore implements RegistryStore {
  readonly kind = 'postgres';
  readonly recovered = undefined;
  readonly audit: PgAuditStore;
  private readonly queue: PgWriteQueue;
  private readonly listener: PgListener;
  private readonly origin = randomUUID();
  private readonly revs = new Map<string, number>();
  private readonly beats = new Set<string>();
  private beatTimer: NodeJS.Timeout | undefined;
  private apply: ((change: RemoteChange) => void) | undefined;
  private early: Notice[] = [];
  private chain: Promise<void> = Promise.resolve();
  private schema: typeof RegistrationSchema | undefined;
  private evicted = 0;
  private closed = false;

  /**
   * Connects, migrates the schema (under an advisory lock) and starts listening.
   * @throws when the database cannot be reached or migrated (the message never shows the password)
   */
  static async open(options: ResolvedRegistryOptions, pgOptions: PgStoreOptions): Promise<PgStore> {
    const config: pg.PoolConfig = { connectionString: pgOptions.url, application_name: 'mesh-proxy', connectionTimeoutMillis: 5_000, max: 4 };
    const pool = new pg.Pool(config);
    const describe = (error: unknown) => redactError(error, pgOptions.url);
    // An idle pooled connection that dies (a PostgreSQL restart) is dropped from the pool, never fatal.
    pool.on('error', (error) => options.logger.warn(`registry pool connection lost: ${describe(error)}`));
    try {
      const client = await pool.connect();
      const ignore = () => undefined; // a lost connection fails the next query; the event must not crash the proxy
      client.on('error', ignore);
      let schema: string;
      try {
        await migrate(client);
        schema = String((await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s ?? 'public');
      } finally {
        client.off('error', ignore);
        client.release();
      }
      const store = new PgStore(options, pgOptions, pool, config, `mm_registry_${schema}`.slice(0, 63));
      await store.listener.start();
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`registry ${redactUrl(pgOptions.url)}: ${describe(error)}`, { cause: error });
    }
  }

  private constructor(
    private readonly options: ResolvedRegistryOptions,
    private readonly pgOptions: PgStoreOptions,
    private readonly pool: pg.Pool,
    config: pg.ClientConfig,
    channel: string,
  ) {
    const describe = (error: unknown) => redactError(error, pgOptions.url);
    const logger = options.logger;
    this.queue = new PgWriteQueue(pool, { channel, origin: this.origin, logger, describe, onRecovered: () => this.reload() });
    this.listener = new PgListener(config, { channel, origin: this.origin, logger, describe, onNotice: (n) => this.onNotice(n), onConnected: (again) => again && this.reload() });
    this.audit = new PgAuditStore(pool, this.queue, {
      proxyId: pgOptions.proxyId,
      retention: options.auditRetention,
      batchDelayMs: options.auditBatchDelayMs,
      now: options.now,
      onError: (error) => logger.error(`audit listener threw: ${String(error)}`),
    });
  }

  get evictions(): number {
    return this.evicted;
  }

  async load(schema: typeof RegistrationSchema): Promise<LoadResult> {
    this.schema = schema;
    const { records, dropped } = this.parse((await this.pool.query<Row>(`${SELECT} ORDER BY registered_at, id`)).rows);
    if (dropped.length > 0) await this.pool.query('DELETE FROM instances WHERE id = ANY($1::text[])', [dropped.map((d) => d.id)]);
    return { records, dropped };
  }

  upsert(record: InstanceRecord): void {
    const r = record;
    const values = [r.id, r.name, r.url, r.host, r.port, r.pid ?? null, JSON.stringify(r.tags), JSON.stringify(r.tools), r.toolsHash, r.version, r.kind, r.state ?? null];
    values.push(json(r.resources), json(r.prompts), r.registeredAt, r.updatedAt, r.lease, this.pgOptions.proxyId);
    this.push([r.id], async (client) => {
      const rev = Number((await client.query<{ rev: string }>(UPSERT, values)).rows[0]?.rev);
      this.revs.set(r.id, rev);
      return { notices: [{ k: 'up', ids: [r.id] }] };
    });
  }

  delete(id: string, reason: LeftReason, by?: string): void {
    this.beats.delete(id);
    if (reason === 'expired') return this.evict(id);
    this.push([id], async (client) => {
      await client.query('DELETE FROM instances WHERE id = $1', [id]);
      return { notices: [{ k: 'del', ids: [id], r: reason, ...(by === undefined ? {} : { by }) }], after: () => this.revs.delete(id) };
    });
  }

  setState(id: string, state: ChildState, at: number): void {
    this.push([id], async (client) => {
      const rows = (await client.query<{ rev: string }>('UPDATE instances SET state = $2, updated_at = $3, rev = rev + 1 WHERE id = $1 RETURNING rev', [id, state, at])).rows;
      if (rows[0]) this.revs.set(id, Number(rows[0].rev));
      return { notices: [{ k: 'up', ids: [id] }] };
    });
  }

  beat(id: string): void {
    this.beats.add(id);
    if (this.beatTimer !== undefined || this.closed) return;
    this.beatTimer = setTimeout(() => this.sendBeats(), BEAT_BATCH_MS);
    this.beatTimer.unref();
  }

  durable(): Promise<void> {
    return this.queue.durable();
  }

  listen(apply: (change: RemoteChange) => void): void {
    this.apply = apply;
    const early = this.early;
    this.early = [];
    for (const notice of early) this.onNotice(notice);
  }

  writeStats() {
    return { writes: 0, bytes: 0, lastWriteAt: undefined, errors: 0, dirty: this.queue.length > 0 };
  }

  health(): StoreHealth {
    const base = { kind: 'postgres' as const, location: redactUrl(this.pgOptions.url), queued: this.queue.length };
    const { down, reason, since } = this.queue.state;
    if (down) return { ...base, state: 'unavailable', ...(reason === undefined ? {} : { reason }), ...(since === undefined ? {} : { since }) };
    if (this.listener.problem !== undefined) return { ...base, state: 'degraded', reason: `not hearing other proxies' changes: ${this.listener.problem}` };
    return { ...base, state: 'ok' };
  }

  async flush(): Promise<void> {
    this.audit.drain();
    this.sendBeats();
    await this.queue.durable();
  }

  // What is still queued gets a short chance to be stored; an unreachable database does not hold the exit up.
  async close(): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    this.closed = true;
    this.audit.stop();
    this.queue.close();
    await this.listener.close();
    await this.chain.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private push(ids: readonly string[], run: PgOp['run']): void {
    if (!this.closed) this.queue.push({ ids, run });
  }

  private sendBeats(): void {
    if (this.beatTimer !== undefined) clearTimeout(this.beatTimer);
    this.beatTimer = undefined;
    if (this.beats.size === 0) return;
    const ids = [...this.beats];
    this.beats.clear();
    this.push(ids, async (client) => {
      const rows = (await client.query<{ id: string; rev: string }>(BEATS, [ids])).rows;
      const revs = rows.map((row) => Number(row.rev));
      rows.forEach((row, i) => this.revs.set(row.id, revs[i]!));
      return { notices: [{ k: 'beat', ids: rows.map((row) => row.id), v: revs }] };
    });
  }

  // An eviction deletes the row only if nobody changed it since this proxy last saw it: of several
  // proxies sweeping at once, exactly one wins; a loser whose view was stale gets the row back.
  private evict(id: string): void {
    this.push([id], async (client) => {
      const rev = this.revs.get(id) ?? null;
      const gone = (await client.query('DELETE FROM instances WHERE id = $1 AND ($2::bigint IS NULL OR rev = $2) RETURNING id', [id, rev])).rowCount === 1;
      if (gone) return { notices: [{ k: 'del', ids: [id], r: 'expired' }], after: () => (this.revs.delete(id), this.evicted++) };
      const rows = (await client.query<Row>(`${SELECT} WHERE id = $1`, [id])).rows;
      return { after: () => this.deliverRows(rows) };
    });
  }

  // After a reconnect: replayed writes first (queue order), then the whole table.
  private reload(): void {
    this.push([], async (client) => {
      const rows = (await client.query<Row>(`${SELECT} ORDER BY registered_at, id`)).rows;
      return {
        after: () => {
          const { records } = this.parse(rows);
          this.deliver({ kind: 'reload', records, pending: this.queue.pending() });
        },
      };
    });
  }

  // Notices are handled one at a time, in arrival order (a read for one must not overtake the next).
  private onNotice(notice: Notice): void {
    if (!this.apply) {
      this.early.push(notice);
      return;
    }
    this.chain = this.chain
      .then(() => this.handle(notice))
      .catch((error: unknown) => {
        this.options.logger.warn(`registry notice not applied (${notice.k} ${notice.ids.length} id(s)): ${redactError(error, this.pgOptions.url)}; reloading`);
        this.reload();
      });
  }

  // An id with a change still queued here is left alone, as in reload(): ours is the newer one.
  private async handle(notice: Notice): Promise<void> {
    const pending = this.queue.pending();
    const keep = notice.ids.map((id) => !pending.has(id));
    notice = { ...notice, ids: notice.ids.filter((_, i) => keep[i]), ...(notice.v && { v: notice.v.filter((_, i) => keep[i]) }) };
    if (notice.ids.length === 0) return;
    if (notice.k === 'beat') {
      notice.ids.forEach((id, i) => notice.v?.[i] !== undefined && this.revs.set(id, notice.v[i]));
      this.deliver({ kind: 'beat', ids: notice.ids });
    } else if (notice.k === 'del') {
      for (const id of notice.ids) {
        this.revs.delete(id);
        this.deliver({ kind: 'delete', id, reason: notice.r ?? 'deregistered', by: notice.by });
      }
    } else this.deliverRows((await this.pool.query<Row>(`${SELECT} WHERE id = ANY($1::text[])`, [notice.ids])).rows);
  }

  private deliverRows(rows: Row[]): void {
    for (const loaded of this.parse(rows).records) this.deliver({ kind: 'upsert', loaded });
  }

  private deliver(change: RemoteChange): void {
    if (this.closed || !this.apply) return;
    this.apply(change);
  }

  // Rows are validated like a file's: a row written by a newer or broken proxy never reaches the table.
  private parse(rows: Row[]): { records: LoadedRecord[]; dropped: DroppedRow[] } {
    const records: LoadedRecord[] = [];
    const dropped: DroppedRow[] = [];
    for (const row of rows) {
      const outcome = this.schema ? recordFromRow(this.schema, row) : 'no schema';
      if (typeof outcome === 'string') dropped.push({ id: String(row.id), reason: outcome });
      else {
        this.revs.set(outcome.id, Number(row.rev));
        records.push({ record: outcome, ageMs: Math.max(0, Number(row.age_ms) || 0) });
      }
    }
    return { records, dropped };
  }
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
