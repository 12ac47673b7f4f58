import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import pg from 'pg';
import type { Logger } from '../../../src/log.js';
import { NoticeSchema, type Notice } from './pg-notice.js';

/**
 * The dedicated LISTEN connection: hands every other proxy's notice on, and when the connection
 * is lost, reconnects with capped exponential backoff and says so (`onConnected(again = true)`:
 * notices may have been missed meanwhile, so the store reloads the table).
 */
export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private backoff: IBackoff<unknown> | undefined;
  private readonly backoffFactory = new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 });
  /** The last connection error while disconnected; undefined while listening. */
  problem: string | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly options: {
      channel: string;
      origin: string;
      logger: Logger;
      describe: (error: unknown) => string;
      onNotice: (notice: Notice) => void;
      onConnected: (again: boolean) => void;
    },
  ) {}

  /** Connects and listens; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.connect(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(again: boolean): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message) => this.notice(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.problem = undefined;
    this.backoff = undefined;
    this.options.onConnected(again);
  }

  // Only the current connection's loss counts (an old client's late 'end' is ignored).
  private lost(client: pg.Client, error: unknown): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.problem = this.options.describe(error);
    this.options.logger.warn(`registry LISTEN connection lost: ${this.problem}; reconnecting`);
    client.end().catch(() => undefined);
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer !== undefined) return;
    this.backoff = this.backoff ? this.backoff.next(undefined) : this.backoffFactory.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect(true).catch((error: unknown) => {
        this.problem = this.options.describe(error);
        this.retry();
      });
    }, this.backoff.duration);
    this.timer.unref();
  }

  // A malformed payload is logged and skipped: it cannot stop the others.
  private notice(payload: string | undefined): void {
    let notice: Notice;
    try {
      notice = NoticeSchema.parse(JSON.parse(payload ?? ''));
    } catch (error) {
      this.options.logger.warn(`registry notice ignored (not one of ours): ${String(error).slice(0, 200)}`);
      return;
    }
    if (notice.o !== this.options.origin) this.options.onNotice(notice);
  }
}
