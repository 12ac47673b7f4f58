import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import { MeshError } from '../../src/errors.js';
import { DRAINING_HEADER } from '../../src/http/drain.js';
import { mediaTypeOf } from '../../src/http/media-type.js';
import type { CallCancel } from './call-cancel.js';

/** Where and how to POST: on an established MCP session, or (no `sessionId`) statelessly to a 2026-07-28 instance. */
export interface SessionTarget {
  url: URL;
  sessionId?: string | undefined;
  protocolVersion: string | undefined;
  /** The instance's connection pool (undici), its sockets kept alive between requests. */
  dispatcher: Dispatcher;
  /** Largest answer read from the instance (one JSON body, or one SSE event); default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number | undefined;
  /** `Bearer <mesh token>` when the proxy has one: instances check it on every request. */
  authorization?: string | undefined;
  /** A remote server's own headers (lowercase names), sent on every request; the protocol's own headers win. */
  headers?: Record<string, string> | undefined;
}

/** The bytes of the instance's answer as read on the hop (one JSON body, or the answer's SSE event). */
export interface WireSizes {
  responseBytes?: number;
}

/** Default cap of one answer the proxy reads from an instance (`--max-response-bytes`), as the sidecar's --max-message-bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The session is gone on the instance (it restarted or expired the session): reconnect and resend. */
export class SessionLostError extends Error {
  override name = 'SessionLostError';
}

/** Error codes of a connection that was never made: a request that failed with one never reached the instance. */
const CONNECT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The request never reached the instance (no connection could be made, or no session was open), so
 * it cannot have run there: the one failure the router sends to another replica.
 */
export class NotSentError extends SdkError {
  constructor(message: string, cause?: unknown) {
    super(SdkErrorCode.ConnectionClosed, message);
    this.name = 'NotSentError';
    if (cause !== undefined) this.cause = cause;
  }
}

/** Error codes of a connection lost once made (reset, closed by the other side): the request may have run. */
const LOST_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** A draining instance refuses before serving (503 marked mesh-draining): the request never ran there, another replica may take it. */
export function isDrainingRefusal(status: number, marked: boolean): boolean {
  return status === 503 && marked;
}

/** True when `error` (or its causes) says a connection could not be made at all (refused, no route). */
export function isConnectFailure(error: unknown): boolean {
  return hasSocketCode(error, CONNECT_CODES);
}

/**
 * True when `error` (or its causes) is a socket failure of the hop, not made or lost (the SDK
 * client's fetch throws TypeError('fetch failed') with the socket's code in `cause`); any other
 * error was thrown on the proxy's own side.
 */
export function isSocketFailure(error: unknown): boolean {
  return hasSocketCode(error, CONNECT_CODES) || hasSocketCode(error, LOST_CODES);
}

// The one errno classifier: the codes of the error and its causes, not its message.
function hasSocketCode(error: unknown, codes: ReadonlySet<string>): boolean {
  for (let e = error, depth = 0; e instanceof Object && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
  }
  return false;
}

/**
 * Posts one JSON-RPC request on an established Streamable HTTP session over a keep-alive socket
 * and resolves with its result (`headers`: per-request headers, the 2026-07-28 Mcp-Method and Mcp-Name). The instance may answer with plain JSON or, when it has something
 * to send first (a log line, a progress note), with an SSE stream; messages other than the answer
 * are passed to `onOther`. Errors keep the SDK client's shapes, so the router maps both paths alike:
 * a JSON-RPC error → ProtocolError(code), no answer in time → SdkError(RequestTimeout), a connection
 * that could not be made → NotSentError, one lost after it was made → SdkError(ConnectionClosed).
 * A `cancel` (the client cancelled) closes the request, which makes the instance cancel the call,
 * and rejects with the cancel's reason. `sizes`, when given, gets the answer's bytes (the audit trail's response size).
 * Sent with undici's dispatcher and read chunk by chunk (no stream objects): about half the CPU of
 * Node's http.request for one hop (test/bench).
 */
export function postJsonRpc(
  target: SessionTarget,
  id: string,
  method: string,
  params: Record<string, unknown>,
  deadlineMs: number,
  onOther?: (message: JSONRPCMessage) => void,
  cancel?: CallCancel,
  headers?: Record<string, string>,
  sizes?: WireSizes,
): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
  const what = `${method} to ${target.url.host}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let reader: AnswerReader | undefined;
    const settle = (error: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (cancel?.onCancel === onCancel) cancel.onCancel = undefined;
      if (error) reject(error);
      else resolve(value);
    };
    // Closing the request makes the instance cancel the call (it sees its client go away).
    const stop = (error: Error) => {
      settle(error);
      if (controller && !controller.aborted) controller.abort(error);
    };
    const timer = setTimeout(() => stop(new SdkError(SdkErrorCode.RequestTimeout, `Request timed out after ${deadlineMs} ms`, { timeout: deadlineMs })), deadlineMs);
    const onCancel = (reason: unknown) => stop(reason instanceof Error ? reason : new Error(reason === undefined ? 'cancelled' : String(reason)));
    if (cancel?.cancelled) return onCancel(cancel.reason);
    if (cancel) cancel.onCancel = onCancel;
    // Done once the answer is known: a stream after its answer is closed (nothing else is read from it).
    const conclude = (c: Dispatcher.DispatchController, outcome: ReaderOutcome | undefined) => {
      if (outcome === undefined) return;
      if ('error' in outcome) return stop(outcome.error);
      settle(undefined, outcome.result);
      if (!outcome.complete && !c.aborted) c.abort(new Error('answer read'));
    };
    const limit = target.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    target.dispatcher.dispatch(
      { path: target.url.pathname + target.url.search, method: 'POST', headers: headers ? { ...sessionHeaders(target), ...headers } : sessionHeaders(target), body },
      {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(new Error('settled before it was sent'));
        },
        onResponseStart(c, status, responseHeaders) {
          if (status < 200) return;
          reader = answerReader(status, responseHeaders, id, limit, what, onOther, sizes);
          conclude(c, reader.outcome);
        },
        onResponseData(c, chunk) {
          if (reader && !settled) conclude(c, reader.feed(chunk));
        },
        onResponseEnd(c) {
          if (reader && !settled) conclude(c, reader.end());
        },
        // Refused (the instance is gone): not sent. Reset or closed once connected: it may have run.
        onResponseError(_c, error) {
          if (settled) return;
          const message = `${what}: ${error.message}`;
          settle(isConnectFailure(error) ? new NotSentError(message, error) : new SdkError(SdkErrorCode.ConnectionClosed, message));
        },
      },
    );
  });
}

/** Posts an answer to a request the instance sent (fire and forget: the instance times out on its own). */
export function postJsonRpcAnswer(target: SessionTarget, message: JSONRPCMessage): void {
  target.dispatcher
    .request({ path: target.url.pathname + target.url.search, method: 'POST', headers: sessionHeaders(target), body: JSON.stringify(message) })
    .then((answer) => answer.body.dump())
    .catch(() => undefined);
}

// JSON preferred, SSE accepted: the instance answers plain JSON unless it has something to stream first.
function sessionHeaders(target: SessionTarget): Record<string, string> {
  const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (target.sessionId) headers['mcp-session-id'] = target.sessionId;
  if (target.protocolVersion) headers['mcp-protocol-version'] = target.protocolVersion;
  if (target.authorization) headers.authorization = target.authorization;
  return headers;
}

/** Where an answer's reading stands: the result (`complete`: the whole body was read), or the error the request fails with. */
type ReaderOutcome = { result: unknown; complete: boolean } | { error: Error };

interface AnswerReader {
  /** Known from the status and headers alone (a lost session, a draining refusal). */
  outcome?: ReaderOutcome;
  feed(chunk: Buffer): ReaderOutcome | undefined;
  end(): ReaderOutcome | undefined;
}

// Reads the instance's answer to request `id` from a JSON body or an SSE stream, reading at most
// `limit` bytes of one message (the JSON body, one SSE event) so no instance can fill the proxy's memory.
function answerReader(status: number, headers: IncomingHttpHeaders, id: string, limit: number, what: string, onOther?: (message: JSONRPCMessage) => void, sizes?: WireSizes): AnswerReader {
  if (status === 404) return failed(new SessionLostError('the instance no longer knows the session'));
  if (isDrainingRefusal(status, headers[DRAINING_HEADER] !== undefined)) return failed(drainingRefusal(what));
  if (status === 200 && mediaTypeOf(headerValue(headers['content-type'])) === 'text/event-stream') return sseReader(id, limit, what, onOther, sizes);
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    feed(chunk) {
      size += chunk.length;
      if (size > limit) return { error: answerTooLarge(what, limit) };
      chunks.push(chunk);
      return undefined;
    },
    end() {
      if (sizes) sizes.responseBytes = size;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return { error: new ProtocolError(ProtocolErrorCode.InternalError, `the instance answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`) };
      }
      return answerOutcome(message, true);
    },
  };
}

const failed = (error: Error): AnswerReader => ({ outcome: { error }, feed: () => undefined, end: () => undefined });

const headerValue = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The error of a request (`what`: method and instance) whose answer passed `--max-response-bytes`; both paths say it alike. */
export function answerTooLarge(what: string, limit: number): MeshError {
  return new MeshError('PAYLOAD_TOO_LARGE', `${what}: the instance's answer is larger than the ${limit}-byte limit of one message (mesh-proxy --max-response-bytes); it was not read`, {
    context: { limitBytes: limit },
  });
}

/** The error of a request a draining instance refused (see isDrainingRefusal); both paths say it alike. */
export function drainingRefusal(what: string): NotSentError {
  return new NotSentError(`${what}: the instance is shutting down (HTTP 503, draining); the request was not served`);
}

// Reads an SSE stream (eventsource-parser) until the answer to `id` arrives. One event may hold at
// most `limit` bytes of data; the parser buffers at most `limit` characters of an event still
// arriving, so an event that never ends fails too.
function sseReader(id: string, limit: number, what: string, onOther?: (message: JSONRPCMessage) => void, sizes?: WireSizes): AnswerReader {
  const decoder = new StringDecoder('utf8');
  let outcome: ReaderOutcome | undefined;
  const onEvent = (event: EventSourceMessage) => {
    if (outcome !== undefined) return;
    const bytes = Buffer.byteLength(event.data);
    if (bytes > limit) {
      outcome = { error: answerTooLarge(what, limit) };
      return;
    }
    if (event.data === '') return;
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(event.data) as JSONRPCMessage;
    } catch {
      outcome = { error: new ProtocolError(ProtocolErrorCode.InternalError, `the instance sent an SSE event that is not JSON: ${event.data.slice(0, 200)}`) };
      return;
    }
    if ('id' in message && message.id === id && !('method' in message)) {
      if (sizes) sizes.responseBytes = bytes;
      outcome = answerOutcome(message, false);
    } else onOther?.(message);
  };
  const parser = createParser({
    onEvent,
    maxBufferSize: limit,
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') outcome ??= { error: answerTooLarge(what, limit) };
    },
  });
  return {
    feed(chunk) {
      parser.feed(decoder.write(chunk));
      return outcome;
    },
    end: () => outcome ?? { error: new SdkError(SdkErrorCode.ConnectionClosed, 'the instance closed the stream before answering') },
  };
}

// The answer's result, or the error it carries.
function answerOutcome(message: unknown, complete: boolean): ReaderOutcome {
  try {
    return { result: answerOf(message), complete };
  } catch (error) {
    return { error: error as Error };
  }
}

function answerOf(message: unknown): unknown {
  const answer = message as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  if (answer.error && typeof answer.error === 'object') {
    const code = typeof answer.error.code === 'number' ? answer.error.code : ProtocolErrorCode.InternalError;
    throw new ProtocolError(code, String(answer.error.message ?? 'error without a message'), answer.error.data);
  }
  if (typeof answer.result !== 'object' || answer.result === null) {
    throw new ProtocolError(ProtocolErrorCode.InternalError, 'the instance answered without a result object');
  }
  return answer.result;
}
