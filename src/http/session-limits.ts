import { MeshError, toHttpJsonRpcError } from '../errors.js';

/** Default idle timeout of an MCP session (a client that vanished without DELETE): 30 minutes. */
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;
/** Default cap of open MCP sessions per endpoint. */
export const DEFAULT_MAX_SESSIONS = 1_000;

/** What the limits need to know of a session. */
export interface SessionActivity {
  /** When the session last received a request (the endpoint's clock). */
  lastActive: number;
  /** Requests of the session still being served; a busy session is never expired or evicted. */
  busy: number;
}

export interface SessionLimitsOptions {
  idleMs?: number | undefined;
  maxSessions?: number | undefined;
  now?: (() => number) | undefined;
}

/**
 * Idle expiry and a cap for the sessions of one endpoint, as the proxy and the instances apply
 * them. Idle sessions (nothing in flight, nothing received for `idleMs`) are closed by a sweep; at
 * the cap a new session evicts the least recently used idle one, and when every session is busy it
 * is refused (the caller answers 503). A closed session answers 404, so its client initializes again.
 */
export class SessionLimits {
  readonly idleMs: number;
  readonly maxSessions: number;
  readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: SessionLimitsOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.now = options.now ?? Date.now;
  }

  /** Sweeps `sessions` for idle ones every so often (a fraction of the idle timeout), closing them with `close`. */
  startSweeping<T extends SessionActivity>(sessions: () => Iterable<[string, T]>, close: (id: string, session: T) => void): void {
    this.sweeper = setInterval(
      () => {
        for (const [id, session] of this.idle(sessions())) close(id, session);
      },
      Math.max(50, Math.min(this.idleMs / 4, 30_000)),
    );
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** The sessions idle longer than the timeout. */
  idle<T extends SessionActivity>(sessions: Iterable<[string, T]>): [string, T][] {
    const cutoff = this.now() - this.idleMs;
    return [...sessions].filter(([, s]) => s.busy === 0 && s.lastActive < cutoff);
  }

  /**
   * Room for one more session among `sessions` (`count` of them): undefined when there is room,
   * the id of the least recently used idle session to evict, or `full` when all are busy.
   */
  admit<T extends SessionActivity>(count: number, sessions: Iterable<[string, T]>): string | 'full' | undefined {
    if (count < this.maxSessions) return undefined;
    let oldest: [string, T] | undefined;
    for (const entry of sessions) if (entry[1].busy === 0 && (!oldest || entry[1].lastActive < oldest[1].lastActive)) oldest = entry;
    return oldest ? oldest[0] : 'full';
  }

  /** The log line for a session closed by these limits. */
  closedMessage(id: string, why: 'idle' | 'evicted'): string {
    return `session ${id} ${why === 'idle' ? `idle for over ${this.idleMs / 1000} s: closed` : `evicted (least recently used, ${this.maxSessions} sessions open)`}`;
  }

  /** Runs one request of a session, keeping it busy (not expired nor evicted) meanwhile. */
  async track<R>(session: SessionActivity, run: () => Promise<R>): Promise<R> {
    session.busy++;
    session.lastActive = this.now();
    try {
      return await run();
    } finally {
      session.busy--;
      session.lastActive = this.now();
    }
  }

  /** The JSON-RPC answer (HTTP 503) to a new session when every session is busy. */
  fullResponse(who: string): Response {
    const full = new MeshError('SERVICE_UNAVAILABLE', `${who} has ${this.maxSessions} open sessions, all busy (--max-sessions); retry later`, {
      context: { maxSessions: this.maxSessions },
    });
    const { status, body } = toHttpJsonRpcError(full);
    return Response.json(body, { status, headers: { 'retry-after': '1' } });
  }
}
