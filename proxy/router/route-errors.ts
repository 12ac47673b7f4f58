import { isMeshErrorCode, MeshError, RPC_CONNECTION_CLOSED, RPC_REQUEST_TIMEOUT, rpcCodeOf } from '../../src/errors.js';
import { isSocketFailure, NotSentError } from './json-post.js';

/** What a routed request was, for error messages and context: `fs.read_text`, `everything prompt "x"`. */
export interface RouteLabel {
  /** Human-readable name of the request, used as the message's prefix. */
  text: string;
  context: Record<string, unknown>;
}

/**
 * True when the request never reached the instance (refused connection, no session could be
 * opened): the only failure worth another replica. A reset, a closed stream or a timeout after the
 * request was sent is never retried: the tool may have run.
 */
export function neverReached(error: unknown): boolean {
  return error instanceof NotSentError;
}

/**
 * Maps what an upstream request threw to the mesh's error family, keeping the instance's own
 * message; `context.rpcCode` keeps the JSON-RPC code the instance answered with.
 */
export function toRouteError(error: unknown, label: RouteLabel, deadlineMs: number): MeshError {
  if (error instanceof MeshError) return error;
  const context = label.context;
  const rpcCode = rpcCodeOf(error);
  if (rpcCode !== undefined) {
    const { message, data } = error as { message: string; data?: { code?: unknown; requiredCapabilities?: unknown } };
    if (rpcCode === RPC_REQUEST_TIMEOUT) {
      return new MeshError('CALL_TIMEOUT', `${label.text} did not answer within ${deadlineMs} ms`, { cause: error, context });
    }
    // v1 SDK servers and clients prefix "MCP error <code>: " (once per hop); v2 never does.
    // A mesh code the peer named is kept (a sidecar's CHILD_EXITED); a code of its own (not MM's) is kept as remoteCode.
    const named = data?.code;
    const code = isMeshErrorCode(named) ? named : rpcCode === RPC_CONNECTION_CLOSED ? 'SERVICE_UNAVAILABLE' : 'TOOL_ERROR';
    const remote = {
      ...(typeof named === 'string' && !isMeshErrorCode(named) && { remoteCode: named }),
      // -32021 names what the client must declare: its client needs it as the instance said it.
      ...(data?.requiredCapabilities !== undefined && { requiredCapabilities: data.requiredCapabilities }),
    };
    return new MeshError(code, `${label.text}: ${message.replace(/^(MCP error -?\d+: )+/, '')}`, { cause: error, context: { ...context, rpcCode, ...remote } });
  }
  // The SDK client's fetch fails with TypeError('fetch failed') whose cause carries the socket's code:
  // refused or reset, the instance's fault. Anything else (a TypeError in the proxy's own code, a body
  // it could not serialize) was thrown on the proxy's side of the hop: the instance never saw it.
  if (!isSocketFailure(error)) return new MeshError('INTERNAL', `${label.text}: ${(error as Error).message}`, { cause: error, context });
  return new MeshError('SERVICE_UNAVAILABLE', `${label.text}: ${(error as Error).message}`, { cause: error, context });
}
