import type { Logger } from '../../src/log.js';
import { writeFileAtomic } from './atomic-write.js';

/** Counters of the registry file's writes. */
export interface WriteStats {
  writes: number;
  bytes: number;
  lastWriteAt: number | undefined;
  errors: number;
  dirty: boolean;
}

/** What the coalescing writer needs. */
export interface CoalescedWriterOptions {
  file: string;
  /** Default delay between the first change and the write. */
  delayMs: number;
  /** Produces the bytes to write (sql.js `db.export()`), called when a write starts. */
  snapshot: () => Uint8Array;
  now: () => number;
  logger: Logger;
  /** Replaces the crash-safe writer (tests). */
  write?: (file: string, data: Uint8Array) => Promise<void>;
}

const RETRY_AFTER_ERROR_MS = 1000;

/**
 * Writes a snapshot to a file crash-safely, coalescing changes: a dirty flag and one timer, at most
 * one write in flight, `flush()` to force. Changes made during a write are picked up by the next.
 * @example const writer = new CoalescedWriter({ file, delayMs: 200, snapshot: () => db.export(), now: Date.now, logger })
 */
export class CoalescedWriter {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private deadline = Infinity;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private readonly counters = { writes: 0, bytes: 0, lastWriteAt: undefined as number | undefined, errors: 0 };

  constructor(private readonly options: CoalescedWriterOptions) {}

  // Many changes in a burst cost one write; an earlier deadline (a sooner delay) wins.
  /** Notes a change; the file is written at most `delayMs` later. */
  markDirty(delayMs: number = this.options.delayMs): void {
    this.dirty = true;
    if (this.closed) return;
    const at = Date.now() + delayMs;
    if (this.timer !== undefined && this.deadline <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.deadline = at;
    this.timer = setTimeout(() => this.onTimer(), delayMs);
    this.timer.unref();
  }

  /** Writes now if anything changed, after any write in flight; rejects if the write fails. */
  async flush(): Promise<void> {
    this.clearTimer();
    await this.write();
  }

  /** Flushes and stops scheduling; later changes are kept in memory only. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Write counters for `stats()`. */
  stats(): WriteStats {
    return { ...this.counters, dirty: this.dirty };
  }

  // Timer-driven writes never throw into the event loop: failures are logged and retried.
  private onTimer(): void {
    this.timer = undefined;
    this.deadline = Infinity;
    this.write().catch((error: unknown) => {
      this.options.logger.error(`registry write to ${this.options.file} failed: ${String(error)}; retrying`);
      this.markDirty(Math.max(this.options.delayMs, RETRY_AFTER_ERROR_MS));
    });
  }

  // flush() writes now, so a pending timer would only cause a second, empty wake-up.
  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadline = Infinity;
  }

  // One write at a time; callers arriving during a write wait, then write what changed since.
  private async write(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    if (!this.dirty) return;
    this.dirty = false;
    const data = this.options.snapshot();
    const writer = this.options.write ?? writeFileAtomic;
    this.inFlight = writer(this.options.file, data)
      .then(
        () => {
          this.counters.writes++;
          this.counters.bytes = data.byteLength;
          this.counters.lastWriteAt = this.options.now();
        },
        (error: unknown) => {
          this.dirty = true;
          this.counters.errors++;
          throw error;
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    await this.inFlight;
  }
}
