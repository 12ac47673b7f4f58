import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { MeshError, type MeshErrorCode } from '../../src/errors.js';

/** What a routed request was, for error messages and context: `fs.read_text`, `everything prompt "x"`. */
export interface RouteLabel {
  /** Human-readable name of the request, used as the message's prefix. */
  text: string;
  context: Record<string, unknown>;
}

/** True when the instance could not be reached at all (worth another replica); not for errors an instance answered with. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof McpError) return error.code === ErrorCode.ConnectionClosed && typeof (error.data as { code?: unknown } | undefined)?.code !== 'string';
  return error instanceof TypeError || (error instanceof Error && /fetch failed|ECONNREFUSED|socket/i.test(error.message));
}

/**
 * True when a routed request failed because of the instance itself (unreachable, connection lost,
 * or it said it cannot serve: SERVICE_UNAVAILABLE), so it counts toward marking it unhealthy. The
 * caller's fault (bad arguments, a body the proxy cannot forward, a cancellation), the mesh's own
 * refusals (MeshError) and errors the instance answered with never count.
 */
export function isInstanceFault(error: unknown): boolean {
  if (error instanceof MeshError) return false;
  if (error instanceof McpError) {
    const code = (error.data as { code?: unknown } | undefined)?.code;
    return error.code === ErrorCode.ConnectionClosed ? code === undefined || code === 'SERVICE_UNAVAILABLE' : code === 'SERVICE_UNAVAILABLE';
  }
  return isConnectionFailure(error);
}

/**
 * Maps what an upstream request threw to the mesh's error family, keeping the instance's own
 * message; `context.rpcCode` keeps the JSON-RPC code the instance answered with.
 */
export function toRouteError(error: unknown, label: RouteLabel, deadlineMs: number): MeshError {
  if (error instanceof MeshError) return error;
  const context = label.context;
  if (error instanceof McpError) {
    const data = error.data as { code?: string } | undefined;
    if (error.code === ErrorCode.RequestTimeout) {
      return new MeshError('CALL_TIMEOUT', `${label.text} did not answer within ${deadlineMs} ms`, { cause: error, context });
    }
    // The SDK prefixes "MCP error <code>: " on each hop; a message that crossed a sidecar has it twice.
    const code = (typeof data?.code === 'string' ? data.code : error.code === ErrorCode.ConnectionClosed ? 'SERVICE_UNAVAILABLE' : 'TOOL_ERROR') as MeshErrorCode;
    return new MeshError(code, `${label.text}: ${error.message.replace(/^(MCP error -?\d+: )+/, '')}`, { cause: error, context: { ...context, rpcCode: error.code } });
  }
  return new MeshError('SERVICE_UNAVAILABLE', `${label.text}: ${(error as Error).message}`, { cause: error, context });
}
