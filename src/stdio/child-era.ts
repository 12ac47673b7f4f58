import type { ClientCapabilities, DiscoverResult, Implementation, JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { silentLogger, type Logger } from '../log.js';
import { modernDiscovery, probeRequest, PROBE_ID, type ChildEra } from './era-probe.js';
import { ModernChild } from './modern-child.js';

export type { ChildEra } from './era-probe.js';

export interface ChildEraOptions {
  /** Who asks (the probe's envelope, and every translated request's until the bridge's initialize names it). */
  clientInfo: Implementation;
  capabilities: ClientCapabilities;
  /** false: the child is known to be legacy (it exited on an earlier probe); no probe is sent. */
  probe?: boolean;
  /** How long a child may stay silent on the probe before it counts as legacy (default 2,000 ms). */
  probeTimeoutMs?: number;
  /** Input rounds one legacy request may take at a modern child (default 8). */
  maxInputRounds?: number;
  log?: Logger;
}

/** How the era was found: `answer` (the child answered the probe), `timeout`, `exit` (it ended meanwhile) or `skipped`. */
export type ProbeOutcome = 'answer' | 'timeout' | 'exit' | 'skipped';

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
  private readonly log: Logger;

  constructor(private readonly child: Transport, private readonly options: ChildEraOptions) {
    this.log = options.log ?? silentLogger;
    child.onclose = () => this.onclose?.();
    child.onerror = (error) => this.onerror?.(error);
  }

  /** Finds out the child's era (the child transport is already started); resolves with it. */
  async start(): Promise<void> {
    const { era, discover, outcome } = await this.probe();
    this.era = era;
    this.discover = discover;
    this.outcome = outcome;
    if (era === 'legacy') {
      this.child.onmessage = (message) => this.onmessage?.(message);
      return;
    }
    const modern = new ModernChild({
      discover: discover as DiscoverResult,
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

  send(message: JSONRPCMessage): Promise<void> {
    return this.modern ? this.modern.fromBridge(message) : this.child.send(message);
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
      const timeoutMs = this.options.probeTimeoutMs ?? 2_000;
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
