import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type pg from 'pg';
import type { Logger } from '../../../src/log.js';
import { noticePayloads, type NoticeDraft } from './pg-notice.js';
import { isTransient } from './pg-url.js';

/** One change, run inside the batch's transaction; returns what to NOTIFY and what to do once committed. */
export interface PgOp {
  /** The instance ids it touches (a reload leaves their local state alone while they wait). */
  ids: readonly string[];
  run(client: pg.PoolClient): Promise<{ notices?: NoticeDraft[]; after?: () => void } | undefined>;
  /** Called instead of `after` when PostgreSQL refused the change and it was dropped. */
  dropped?: () => void;
}

/** Where the queue stands, for /healthz. */
export interface QueueHealth {
  down: boolean;
  reason: string | undefined;
  since: number | undefined;
}

const MAX_BATCH = 500;

/**
 * The PostgreSQL store's writes: queued in order, sent in batches (one transaction, one NOTIFY per
 * kind), retried with capped exponential backoff while the connection is lost, so nothing a proxy
 * acknowledged is dropped by an outage. `durable()` resolves when what was queued so far is stored.
 */
export class PgWriteQueue {
  private readonly queue: Array<{ op: PgOp; seq: number }> = [];
  private readonly pendingIds = new Map<string, number>();
  private readonly waiters: Array<{ seq: number; resolve: () => void }> = [];
  private seq = 0;
  private stored = 0;
  private pumping = false;
  private closed = false;
  private single = 0;
  private backoff: IBackoff<unknown> | undefined;
  private readonly backoffFactory = new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 });
  private wake: (() => void) | undefined;
  readonly state: QueueHealth = { down: false, reason: undefined, since: undefined };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: {
      channel: string;
      origin: string;
      logger: Logger;
      describe: (error: unknown) => string;
      /** Called after the first successful batch following an outage (the store reloads then). */
      onRecovered: () => void;
    },
  ) {}

  /** Queues a change; it is sent with the next batch. */
  push(op: PgOp): void {
    if (this.closed) return;
    this.queue.push({ op, seq: ++this.seq });
    for (const id of op.ids) this.pendingIds.set(id, (this.pendingIds.get(id) ?? 0) + 1);
    void this.pump();
  }

  /** Changes waiting to be stored. */
  get length(): number {
    return this.queue.length;
  }

  /** Ids with a change not yet stored. */
  pending(): Set<string> {
    return new Set(this.pendingIds.keys());
  }

  /** Resolves once everything queued so far is stored (or dropped as unstorable). */
  durable(): Promise<void> {
    const seq = this.seq;
    if (this.stored >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Stops retrying; whatever is still queued stays unwritten. */
  close(): void {
    this.closed = true;
    this.wake?.();
    this.settle(this.seq);
  }

  // One pump at a time: batches go out in queue order, a failed batch is retried before anything after it.
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const size = this.single > 0 ? 1 : Math.min(MAX_BATCH, this.queue.length);
        const batch = this.queue.slice(0, size);
        const outcome = await this.send(batch.map((b) => b.op));
        if (outcome === 'retry') {
          await this.pause();
          continue;
        }
        if (this.single > 0) this.single--;
        if (outcome === 'split' && batch.length > 1) {
          this.single = batch.length; // one at a time, so only the unstorable change is dropped
          continue;
        }
        this.queue.splice(0, batch.length);
        if (outcome === 'split') batch[0]?.op.dropped?.();
        for (const { op } of batch) for (const id of op.ids) this.release(id);
        this.settle(batch[batch.length - 1]!.seq);
      }
    } finally {
      this.pumping = false;
    }
  }

  // One transaction for the batch; its NOTIFYs are delivered on commit, so nobody reads a row before it is there.
  private async send(ops: PgOp[]): Promise<'ok' | 'retry' | 'split'> {
    let client: pg.PoolClient | undefined;
    // A connection lost between two queries is emitted as an 'error' event: the next query fails anyway.
    const ignore = () => undefined;
    // Whatever fails before BEGIN (no connection, a refused login, a missing database) is an
    // outage to wait out: nothing was sent, so nothing may be dropped.
    let begun = false;
    try {
      client = await this.pool.connect();
      client.on('error', ignore);
      await client.query('BEGIN');
      begun = true;
      const notices: NoticeDraft[] = [];
      const after: Array<() => void> = [];
      for (const op of ops) {
        const result = await op.run(client);
        if (result?.notices) notices.push(...result.notices);
        if (result?.after) after.push(result.after);
      }
      for (const payload of noticePayloads(this.options.origin, notices)) await client.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]);
      await client.query('COMMIT');
      client.off('error', ignore);
      client.release();
      for (const fn of after) fn();
      this.recovered();
      return 'ok';
    } catch (error) {
      if (client) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release(error as Error); // destroyed: it keeps the listener for any late event
      }
      if (!begun || isTransient(error)) {
        this.lost(error);
        return 'retry';
      }
      const what = ops.length > 1 ? 'a batch of registry changes; storing them one at a time' : 'a registry change; it is dropped';
      this.options.logger.error(`PostgreSQL refused ${what}: ${this.options.describe(error)}`);
      return 'split';
    }
  }

  private lost(error: unknown): void {
    const reason = this.options.describe(error);
    if (!this.state.down) this.options.logger.warn(`registry store unavailable: ${reason}; ${this.queue.length} change(s) queued, retrying`);
    this.state.down = true;
    this.state.reason = reason;
    this.state.since ??= Date.now();
  }

  private recovered(): void {
    this.backoff = undefined;
    if (!this.state.down) return;
    this.options.logger.info(`registry store reachable again after ${Math.round((Date.now() - (this.state.since ?? Date.now())) / 1000)} s; replaying queued changes`);
    this.state.down = false;
    this.state.reason = undefined;
    this.state.since = undefined;
    this.options.onRecovered();
  }

  // Capped exponential backoff between attempts; close() cuts the wait short.
  private pause(): Promise<void> {
    this.backoff = this.backoff ? this.backoff.next(undefined) : this.backoffFactory.next();
    const ms = this.backoff.duration;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private release(id: string): void {
    const left = (this.pendingIds.get(id) ?? 1) - 1;
    if (left <= 0) this.pendingIds.delete(id);
    else this.pendingIds.set(id, left);
  }

  private settle(seq: number): void {
    this.stored = Math.max(this.stored, seq);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.seq <= this.stored) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
