import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResultResponse } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import type { Reply } from '../bridge/types.js';
import { MeshError, toJsonRpcError } from '../errors.js';

/** What a forwarded modern request does next: answer, or ask its client for input (the child's own requests). */
export type CallStep =
  | { kind: 'answer'; message: JSONRPCResultResponse | JSONRPCErrorResponse }
  | { kind: 'input'; requests: JSONRPCRequest[] };

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
  private answered = false;

  constructor(private readonly bridge: Bridge, readonly request: JSONRPCRequest) {
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
    const step = this.queue.shift();
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

  private push(step: CallStep): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(step);
    } else {
      this.queue.push(step);
    }
  }
}
