import type { ClientCapabilities, LoggingLevel, LoggingMessageNotification, Progress, Result, ServerRequest } from '@modelcontextprotocol/client';
import type { CallCancel } from './call-cancel.js';
import type { UpstreamRequestOptions } from './upstream.js';

/**
 * A client session of the mesh endpoint that needs its own upstream sessions: it declared
 * sampling, elicitation or roots (an upstream may ask it things while serving its calls), or it set
 * a log level (it wants the log lines of its calls). The router opens one upstream session per
 * (target, instance) on first use, declaring `capabilities`, and hands what those sessions send
 * back to the target.
 */
export interface RelayTarget {
  /** The client session's id (for logs and error messages). */
  readonly id: string;
  /** What the upstream sessions declare in initialize: the client's own sampling/elicitation/roots, nothing it lacks. */
  readonly capabilities: ClientCapabilities;
  /** The log level the client set (logging/setLevel): sent with each request to a 2026-07-28 instance, which has no session to keep it. */
  readonly level?: LoggingLevel | undefined;
  /** An upstream session of this target sent a log line (`service` names the instance's service). */
  onLog(service: string, params: LoggingMessageNotification['params']): void;
  /** An upstream session sent a server→client request (sampling, elicitation, roots); resolves with the client's answer. */
  onRequest(service: string, request: ServerRequest, signal: AbortSignal): Promise<Result>;
}

/**
 * What a routed request needs relayed between the client and the instance. A request without a
 * `session` or `onProgress` is a plain one: nothing flows back but the result, so it takes the lean
 * path (a `signal` or `cancel` alone cancels it there by closing its HTTP request to the instance).
 * With either, the request goes through an SDK client session.
 *
 * @example
 * router.call('fs', 'scan', args, { caller, relay: { onProgress: (p) => notifyClient(p) } });
 */
export interface Relay {
  /** Run the request on this client session's own upstream session (server→client requests, log lines). */
  session?: RelayTarget;
  /** Each notifications/progress the instance sends for this request (its token stripped: the caller adds its own). */
  onProgress?: (progress: Progress) => void;
  /** Aborted when the client cancels: the upstream request is cancelled too (notifications/cancelled, or a closed request). */
  signal?: AbortSignal;
  /** The hot path's cancellation of a plain request (no AbortController per call); lean path only. */
  cancel?: CallCancel;
  /** A 2026-07-28 request's own log level: the instance's log lines for it come back to `onLog` (`service` names the instance's service). */
  logLevel?: LoggingLevel;
  onLog?: (service: string, params: LoggingMessageNotification['params']) => void;
  /** The request came in the 2026-07-28 era: that era's protocol errors (-32021, a client capability missing) reach it as errors. */
  modern?: boolean;
  /** What the client can be asked (elicitation, sampling, roots): declared to a 2026-07-28 instance in the request's envelope. */
  declared?: ClientCapabilities | undefined;
}

/** True when the client cancelled the request. */
export function isCancelled(relay: Relay | undefined): boolean {
  return relay?.signal?.aborted === true || relay?.cancel?.cancelled === true;
}

// Progress is what proves a long call alive, as the sidecar does: each one restarts the deadline.
/** The SDK request options a relay adds to the upstream request. */
export function relayRequestOptions(relay: Relay): UpstreamRequestOptions {
  const options: UpstreamRequestOptions = {};
  if (relay.onProgress) {
    options.onprogress = relay.onProgress;
    options.resetTimeoutOnProgress = true;
  }
  if (relay.signal) options.signal = relay.signal;
  if (relay.cancel) options.cancel = relay.cancel;
  if (relay.declared) options.clientCapabilities = relay.declared;
  // A legacy session's level rides each request to a modern instance (its log lines come back on the session's own upstream);
  // a session that set none hears every line, as a legacy server logs to a session that never called logging/setLevel.
  if (relay.session) options.logLevel = relay.session.level ?? 'debug';
  return options;
}
