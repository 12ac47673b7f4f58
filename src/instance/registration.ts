import type { Tool as SdkTool } from '@modelcontextprotocol/server';
import { LEASE_HEADER } from '../contract/lease.js';
import { RegisteredAnswerSchema, type RegistrationInput } from '../contract/registration.js';
import { silentLogger, type Logger } from '../log.js';
import { certificateHint } from '../http/tls-trust.js';
import { trustedFetch } from '../http/trusted-fetch.js';

/** The proxy answered and refused (not a connection failure): another proxy of the mesh would say the same. */
class ProxyRefusal extends Error {}

// A failed fetch names its system error (and what to do about a certificate) rather than "fetch failed".
function failureText(error: unknown): string {
  let cause: unknown = (error as { cause?: unknown }).cause;
  const nested = (cause as { errors?: unknown[] } | undefined)?.errors;
  if (Array.isArray(nested) && nested[0] !== undefined) cause = nested[0];
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return (error as Error).message;
  return certificateHint(code) ?? `${(error as Error).message} (${code})`;
}

/**
 * What an instance tells the proxy about itself (metadata only, never a command to run): the wire
 * contract's registration without the claim (added here). Two fields are wider than the contract
 * today: tools are the SDK's (whose outputSchema may be any JSON Schema; the proxy takes objects
 * only), and a sidecar's state may be `stopping`/`stopped` (the proxy knows ChildState only).
 */
export type RegistrationBody = Omit<RegistrationInput, 'claim' | 'tools' | 'state'> & { tools: SdkTool[]; state?: string };

export interface RegistrationOptions {
  /** The proxy, or several proxies of one mesh: registered with one at a time, the next on a connection failure. */
  proxyUrl: string | readonly string[];
  /** CAs an https proxy is verified against (readCa: `--ca` plus the system store). */
  ca?: string[] | undefined;
  /** Current registration body (read at every (re-)registration). */
  describe: () => RegistrationBody;
  intervalMs?: number;
  /** Fraction of the interval added or removed at random, so many sidecars do not beat in step. */
  jitter?: number;
  /** Retry delay while the proxy refused us, and the longest one while it is away (it starts at 250 ms and doubles up to this). */
  retryMs?: number;
  requestTimeoutMs?: number;
  log?: Logger;
  token?: string | undefined;
  /** This process's claim (lease.ts), sent in every registration body; its /healthz shows the claim's SHA-256. */
  claim?: string | undefined;
  /** Restarts of the child so far (a sidecar's), sent in heartbeats once there was one. */
  restarts?: () => number;
}

const AWAY_FIRST_RETRY_MS = 250;

/**
 * Keeps an instance registered with the mesh-proxy: registers, heartbeats with jitter,
 * re-registers when the proxy answers 404 (it restarted or expired us) or 409 (our id or lease is
 * no longer ours), and keeps retrying while the proxy is away. The lease the registration answers
 * with goes with every beat, re-registration and the deregistration. Never throws into its owner:
 * a missing proxy only delays joining.
 */
export class RegistrationClient {
  registered = false;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private warnedAway = false;
  private readonly log: Logger;
  private readonly bases: string[];
  /** Which of `bases` we register with now. */
  private current = 0;
  /** Proxies that failed to connect in a row (a whole round of them waits awayDelay()). */
  private unreachable = 0;
  /** Rounds in a row in which no proxy could be reached (the retry delay doubles with each). */
  private awayRounds = 0;
  private readonly fetch: typeof fetch;
  private inFlight: Promise<void> | undefined;
  /** The lease of our registration (memory only; a new process registers again and gets its own). */
  private lease: string | undefined;

  constructor(private readonly options: RegistrationOptions) {
    this.log = options.log ?? silentLogger;
    this.bases = (typeof options.proxyUrl === 'string' ? [options.proxyUrl] : [...options.proxyUrl]).map((url) => url.replace(/\/+$/, ''));
    if (this.bases.length === 0) throw new Error('RegistrationClient: no proxy URL');
    this.fetch = trustedFetch(options.ca);
  }

  /** The proxy registered with now (or being tried). */
  get base(): string {
    return this.bases[this.current] as string;
  }

  start(): void {
    this.schedule(0);
  }

  /** Sends the registration again now (tool list or state changed). */
  refresh(): void {
    this.registered = false;
    this.schedule(0);
  }

  /** Reports a state change at once (a crashed child must not be routed to for 30 s). */
  beatNow(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.tick().finally(() => (this.inFlight = undefined));
    }, delayMs);
    this.timer.unref();
  }

  private nextBeatMs(): number {
    const interval = this.options.intervalMs ?? 30_000;
    const jitter = this.options.jitter ?? 0.1;
    return Math.max(50, Math.round(interval * (1 - jitter + Math.random() * 2 * jitter)));
  }

  private async tick(): Promise<void> {
    const body = this.options.describe();
    try {
      if (!this.registered) {
        const claimed = this.options.claim === undefined ? body : { ...body, claim: this.options.claim };
        const answer = RegisteredAnswerSchema.safeParse(await this.send('POST', '/v1/instances', claimed));
        if (!answer.success) throw new ProxyRefusal('POST /v1/instances: the answer carries no lease (is this an older mesh-proxy?)');
        this.lease = answer.data.lease;
        this.registered = true;
        this.log.info(`registered with ${this.base} as ${body.id} (${body.tools.length} tools)`);
      } else {
        // The beat names our service: after an expiry another service may hold our id (409).
        // Restarts go along once there was one (a proxy older than the field never hears of it before).
        const restarts = this.options.restarts?.() ?? 0;
        const beat = { name: body.name, state: body.state, toolsHash: body.toolsHash, ...(restarts > 0 ? { restarts } : {}) };
        const status = await this.send('PUT', `/v1/instances/${encodeURIComponent(body.id)}/heartbeat`, beat, [404, 409]);
        if (status === 404 || status === 409) {
          this.log.info(
            status === 404
              ? 'proxy does not know this instance (it restarted or expired it): registering again'
              : `instance id ${body.id} is no longer ours (another service holds it, or it registered again with another lease): registering again`,
          );
          this.registered = false;
          return this.tick();
        }
      }
      this.lastError = undefined;
      this.warnedAway = false;
      this.unreachable = 0;
      this.awayRounds = 0;
      this.schedule(this.nextBeatMs());
    } catch (error) {
      this.lastError = failureText(error);
      if (this.bases.length > 1 && !(error instanceof ProxyRefusal)) return this.failOver();
      if (!this.warnedAway) this.log.warn(`mesh-proxy at ${this.base} unavailable (${this.lastError}); serving anyway and retrying`);
      this.warnedAway = true;
      this.schedule(error instanceof ProxyRefusal ? this.retryMs : this.awayDelay());
    }
  }

  private get retryMs(): number {
    return this.options.retryMs ?? 5_000;
  }

  // A proxy that is away is often one starting beside us (mesh up starts sidecars while the proxy
  // starts): try again soon, then back off to retryMs. A refusal waits retryMs at once.
  private awayDelay(): number {
    this.awayRounds++;
    return Math.min(this.retryMs, AWAY_FIRST_RETRY_MS * 2 ** (this.awayRounds - 1));
  }

  // The proxy could not be reached (or is stopping): register with the next one, at once unless a
  // whole round failed. The lease goes along: proxies sharing a registry know it.
  private failOver(): void {
    const from = this.base;
    this.current = (this.current + 1) % this.bases.length;
    this.registered = false;
    this.unreachable++;
    const round = this.unreachable >= this.bases.length;
    if (round) this.unreachable = 0;
    if (!this.warnedAway) this.log.warn(`mesh-proxy at ${from} unavailable (${this.lastError}); ${round ? 'no proxy answers: retrying with' : 'failing over to'} ${this.base}`);
    if (round) this.warnedAway = true;
    this.schedule(round ? this.awayDelay() : 0);
  }

  // One request to the proxy with the token and our lease; the JSON answer of a POST, else the status.
  private async send(method: 'POST', path: string, body: unknown): Promise<unknown>;
  private async send(method: 'PUT' | 'DELETE', path: string, body: unknown, okStatuses: number[]): Promise<number>;
  private async send(method: string, path: string, body: unknown, okStatuses: number[] = []): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (this.lease !== undefined) headers[LEASE_HEADER] = this.lease;
    const response = await this.fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5_000),
    });
    if (response.ok && method === 'POST') return response.json().catch(() => undefined);
    if (response.ok || okStatuses.includes(response.status)) {
      await response.body?.cancel();
      return response.status;
    }
    const text = await response.text().catch(() => '');
    // A draining proxy (503) is as good as gone: the next one may take us.
    const message = `${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`;
    throw response.status === 503 ? new Error(message) : new ProxyRefusal(message);
  }

  /** Stops beating and deregisters (best effort, bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    if (!this.registered) return;
    const { id } = this.options.describe();
    try {
      const status = await this.send('DELETE', `/v1/instances/${encodeURIComponent(id)}`, undefined, [404, 409]);
      this.log.info(status === 409 ? 'not deregistered: our lease is no longer current (the instance registered again elsewhere)' : 'deregistered from the mesh-proxy');
    } catch (error) {
      this.log.warn(`could not deregister: ${(error as Error).message}`);
    }
    this.registered = false;
  }
}
