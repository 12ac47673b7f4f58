import type { ChildCallSpans } from './child-call-trace.js';
import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCResultResponse, RequestId } from '@modelcontextprotocol/server';

/** How a client session receives messages that are not answers to one particular request. */
export interface ClientChannel {
  /** `relatedTo` names the client request a message belongs to (so HTTP can put it on that request's stream). */
  send(message: JSONRPCMessage, relatedTo?: RequestId): void;
}

/** Where the answer to one forwarded request goes. */
export interface Reply {
  respond(message: JSONRPCResultResponse | JSONRPCErrorResponse): void;
  /** Progress, log messages and server requests that belong to this request; defaults to the session channel. */
  related?(message: JSONRPCMessage): void;
}

/** One request sent to the child and not yet answered. */
export interface Pending {
  childId: number;
  originalId: RequestId;
  method: string;
  /** Tool name for tools/call, for error messages. */
  tool: string | undefined;
  progressToken: string | number | undefined;
  session: { id: string } | undefined;
  reply: Reply;
  deadline: number;
  deadlineMs: number;
  /** The request's spans (tracing on, a client request with trace context). */
  spans?: ChildCallSpans | undefined;
}
