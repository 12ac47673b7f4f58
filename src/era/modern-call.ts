import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResultResponse } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import type { Reply } from '../bridge/types.js';
import { MeshError, toJsonRpcError } from '../errors.js';

/** What a forwarded modern request does next: answer, or ask its client for input (the child's own requests). */
export type CallStep = { kind: 'answer'; message: JSONRPCResultResponse | JSONRPCErrorResponse } | { kind: 'input'; requests: JSONRPCRequest[] };

/**
 * How long the first request a child sends during a call waits for the child's next ones before its
 * round of input goes out: a legacy child asks for several inputs at once with separate stdout lines,
 * which may reach us in separate reads. A round is paced by a person or a model, so a few ms are free.
 */
export const INPUT_GATHER_MS = 20;

/** Where the request's progress and log messages go during the current HTTP round (none: dropped). */
export interface CallSink {
  progress?(notification: JSONRPCNotification): void;
  log?(notification: JSONRPCNotification): void;
}

/**
 * One modern request forwarded to the (legacy) child through the bridge. It may outlive its HTTP
 * exchange: when the child asks the client something (sampling, elicitation, roots), the exchange
 * ends with an InputRequiredResult while the child's call keeps running, and a retry picks it up.
 */
export class ModernCall {
  /** Messages for the current round; rebound by each retry. */
  sink: CallSink = {};
  readonly reply: Reply;
  childId: number | undefined;
  private readonly queue: CallStep[] = [];
  private waiter: ((step: CallStep) => void) | undefined;
  /** Set while a round of input gathers the child's further requests (INPUT_GATHER_MS). */
  private gathering: NodeJS.Timeout | undefined;
  private answered = false;

  constructor(
    private readonly bridge: Bridge,
    readonly request: JSONRPCRequest,
    private readonly gatherMs = INPUT_GATHER_MS,
  ) {
    this.reply = {
      respond: (message) => {
        this.answered = true;
        this.push({ kind: 'answer', message });
      },
      related: (message: JSONRPCMessage) => this.related(message),
    };
  }

  /** Sends the request to the child. */
  start(): this {
    this.childId = this.bridge.forward(undefined, this.request, this.reply);
    return this;
  }

  get done(): boolean {
    return this.answered;
  }

  /** The next step: the answer, or the child's requests gathered since the last step. */
  next(): Promise<CallStep> {
    const step = this.gathering === undefined ? this.queue.shift() : undefined;
    if (step) return Promise.resolve(step);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Hands the client's answer to one of the child's requests back to the child. */
  answerChild(message: JSONRPCResultResponse | JSONRPCErrorResponse): boolean {
    return this.bridge.answerChild(this.reply, message);
  }

  /** Time spent waiting for the client's input does not count against the child's deadline: `ms` from now, or its own deadline again. */
  extendDeadline(ms?: number): void {
    if (this.childId !== undefined) this.bridge.extendDeadline(this.childId, ms);
  }

  /** The client is gone for good: the child stops working on it and its pending questions fail. */
  cancel(reason: string): void {
    if (!this.answered) {
      if (this.childId !== undefined) this.bridge.cancel(this.childId, reason);
      this.reply.respond(toJsonRpcError(this.request.id, new MeshError('CALL_CANCELLED', reason)));
    }
    this.bridge.releaseChildRequests(this.reply, reason);
  }

  private related(message: JSONRPCMessage): void {
    if ('id' in message && 'method' in message) {
      // Requests arriving together (one after the other on the child's stdout) go out in one round.
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === 'input') last.requests.push(message);
      else this.push({ kind: 'input', requests: [message] });
      return;
    }
    if (!('method' in message)) return;
    if (message.method === 'notifications/progress') this.sink.progress?.(message);
    else if (message.method === 'notifications/message') this.sink.log?.(message);
  }

  // Steps are taken in order; a round of input for a waiting reader first gathers what follows it.
  private push(step: CallStep): void {
    this.queue.push(step);
    if (step.kind === 'input' && this.waiter && this.gatherMs > 0 && this.gathering === undefined) {
      this.gathering = setTimeout(() => {
        this.gathering = undefined;
        this.wake();
      }, this.gatherMs);
      return;
    }
    if (this.gathering === undefined) this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    const step = waiter && this.queue.shift();
    if (!step) return;
    this.waiter = undefined;
    waiter(step);
  }
}
