import { ProtocolErrorCode, type ClientCapabilities, type DiscoverResult, type Implementation, type JSONRPCMessage, type JSONRPCRequest, type Transport } from '@modelcontextprotocol/server';
import { silentLogger, type Logger } from '../log.js';
import { MODERN_REVISION } from '../era/revision.js';
import { modernDiscovery, probeRequest, PROBE_ID, type ChildEra } from './era-probe.js';
import { ModernChild } from './modern-child.js';

export type { ChildEra } from './era-probe.js';

export interface ChildEraOptions {
  /** Who asks (the probe's envelope, and every translated request's until the bridge's initialize names it). */
  clientInfo: Implementation;
  capabilities: ClientCapabilities;
  /** false: the child is known to be legacy (it exited on an earlier probe); no probe is sent. */
  probe?: boolean;
  /** How long a child may stay silent on the probe before it counts as legacy (default 10,000 ms). */
  probeTimeoutMs?: number;
  /** Input rounds one legacy request may take at a modern child (default 8). */
  maxInputRounds?: number;
  log?: Logger;
}

/**
 * How the era was found: `answer` (the child answered the probe), `timeout`, `exit` (it ended
 * meanwhile), `skipped` (no probe), or `late` (answered after the deadline, then refused initialize).
 */
export type ProbeOutcome = 'answer' | 'timeout' | 'exit' | 'skipped' | 'late';

/** The UnsupportedProtocolVersionError code: a modern-only child's answer to initialize. */

function namesModern(data: unknown): boolean {
  const supported = (data as { supported?: unknown } | undefined)?.supported;
  return Array.isArray(supported) && supported.includes(MODERN_REVISION);
}

/**
 * The child's side of the bridge, in whichever era the child speaks. `start()` probes the started
 * child with `server/discover` (the spec's stdio rule); a legacy child then gets every message
 * unchanged, a modern one is translated by ModernChild so that the bridge sees a legacy server.
 * @example const era = new ChildEraTransport(child, { clientInfo, capabilities }); await era.start(); bridge.attach(era);
 */
export class ChildEraTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Known once start() resolved. */
  era: ChildEra | undefined;
  discover: DiscoverResult | undefined;
  outcome: ProbeOutcome | undefined;
  /** Milliseconds from the probe's write to the verdict. */
  probeMs: number | undefined;
  private modern: ModernChild | undefined;
  /** After a probe timeout: the late answers that may still prove the child modern. */
  private readonly late: { discover?: DiscoverResult | undefined; initialize?: JSONRPCRequest; refused?: boolean } = {};
  private readonly log: Logger;

  constructor(
    private readonly child: Transport,
    private readonly options: ChildEraOptions,
  ) {
    this.log = options.log ?? silentLogger;
    child.onclose = () => this.onclose?.();
    child.onerror = (error) => this.onerror?.(error);
  }

  /** Finds out the child's era (the child transport is already started); resolves with it. */
  async start(): Promise<void> {
    const { era, discover, outcome } = await this.probe();
    this.era = era;
    this.outcome = outcome;
    if (era === 'modern') return this.speakModern(discover as DiscoverResult);
    this.child.onmessage = outcome === 'timeout' ? (message) => this.afterTimeout(message) : (message) => this.onmessage?.(message);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.modern) return this.modern.fromBridge(message);
    if (this.outcome === 'timeout' && 'method' in message && message.method === 'initialize' && 'id' in message) this.late.initialize = message;
    return this.child.send(message);
  }

  private speakModern(discover: DiscoverResult): void {
    this.era = 'modern';
    this.discover = discover;
    const modern = new ModernChild({
      discover,
      clientInfo: this.options.clientInfo,
      capabilities: this.options.capabilities,
      send: (message) => this.child.send(message),
      deliver: (message) => this.onmessage?.(message),
      maxInputRounds: this.options.maxInputRounds,
      log: this.log,
    });
    this.modern = modern;
    this.child.onmessage = (message) => modern.fromChild(message);
    this.child.onclose = () => {
      modern.close();
      this.onclose?.();
    };
  }

  // A modern child slower to start than the probe deadline was taken for legacy: it refuses the
  // initialize with -32022 naming 2026-07-28 and answers the probe late. Both answers (in either
  // order) turn it modern, and the bridge's initialize is answered from the late DiscoverResult.
  private afterTimeout(message: JSONRPCMessage): void {
    const late = this.late;
    if (!('method' in message) && message.id === PROBE_ID) {
      late.discover = modernDiscovery(message);
      if (late.refused) this.turnModern();
      return;
    }
    if (!('method' in message) && late.initialize && message.id === late.initialize.id) {
      if ('error' in message && message.error.code === ProtocolErrorCode.UnsupportedProtocolVersion && namesModern(message.error.data)) {
        late.refused = true;
        if (late.discover) this.turnModern();
        return;
      }
      this.child.onmessage = (m) => this.onmessage?.(m);
    }
    this.onmessage?.(message);
  }

  private turnModern(): void {
    const { discover, initialize } = this.late;
    if (!discover || !initialize) return;
    this.log.warn('the server answered server/discover after the probe deadline and refused initialize: speaking 2026-07-28 to it (raise --probe-timeout for a faster start)');
    this.outcome = 'late';
    this.speakModern(discover);
    void this.modern?.fromBridge(initialize);
  }

  close(): Promise<void> {
    return this.child.close();
  }

  // Until the verdict, whatever else the child writes is dropped (nothing is written back), as the SDK's client does.
  private probe(): Promise<{ era: ChildEra; discover?: DiscoverResult; outcome: ProbeOutcome }> {
    if (this.options.probe === false) return Promise.resolve({ era: 'legacy', outcome: 'skipped' });
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const settle = (verdict: { era: ChildEra; discover?: DiscoverResult; outcome: ProbeOutcome }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.child.onclose = () => this.onclose?.();
        this.child.onmessage = undefined;
        this.probeMs = Math.round((performance.now() - started) * 10) / 10;
        resolve(verdict);
      };
      const timeoutMs = this.options.probeTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.log.info(`the server did not answer server/discover within ${timeoutMs} ms: speaking the legacy handshake to it`);
        settle({ era: 'legacy', outcome: 'timeout' });
      }, timeoutMs);
      this.child.onmessage = (message) => {
        if ('method' in message || message.id !== PROBE_ID) return;
        const discover = modernDiscovery(message);
        settle(discover ? { era: 'modern', discover, outcome: 'answer' } : { era: 'legacy', outcome: 'answer' });
      };
      this.child.onclose = () => {
        settle({ era: 'legacy', outcome: 'exit' });
        this.onclose?.();
      };
      this.child.send(probeRequest(this.options.clientInfo, this.options.capabilities)).catch(() => settle({ era: 'legacy', outcome: 'exit' }));
    });
  }
}
