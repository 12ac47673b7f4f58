import { ProtocolErrorCode, type JSONRPCErrorResponse, type RequestId } from '@modelcontextprotocol/client';

/** Every failure MM reports has one of these codes; the wire form is derived from it in one place. */
export type MeshErrorCode =
  | 'SERVICE_NOT_FOUND'
  | 'TOOL_NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'
  | 'CALL_TIMEOUT'
  | 'CHILD_EXITED'
  | 'CHILD_START_FAILED'
  | 'CALL_CANCELLED'
  | 'TOOL_ERROR'
  | 'BAD_REQUEST'
  | 'INVALID_PARAMS'
  | 'PAYLOAD_TOO_LARGE'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'NO_FREE_PORT'
  | 'PORT_IN_USE'
  | 'LOOP_DETECTED'
  | 'REGISTRY_CORRUPT'
  | 'MANIFEST_INVALID'
  | 'PROXY_UNREACHABLE'
  | 'INTERNAL';

export interface MeshErrorOptions {
  cause?: unknown;
  /** Anything that helps a reader: service, tool, exit code, stderr tail, port range... */
  context?: Record<string, unknown>;
}

/**
 * The one error family of MM's own code paths.
 * @example throw new MeshError('SERVICE_NOT_FOUND', 'no service named "fs"', { context: { service: 'fs' } })
 */
export class MeshError extends Error {
  readonly code: MeshErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.context = options.context ?? {};
  }
}

/**
 * MM's wire codes for a deadline and for a child or connection that is gone. They are v1's
 * `ErrorCode.RequestTimeout` / `ConnectionClosed`; v2 keeps those only as SDK-local string codes
 * (`SdkErrorCode`), so the numbers MM has always answered with are spelled here.
 */
export const RPC_REQUEST_TIMEOUT = -32001;
export const RPC_CONNECTION_CLOSED = -32000;

const jsonRpcCodes: Record<MeshErrorCode, number> = {
  SERVICE_NOT_FOUND: ProtocolErrorCode.InvalidParams,
  TOOL_NOT_FOUND: ProtocolErrorCode.InvalidParams,
  BAD_REQUEST: ProtocolErrorCode.InvalidRequest,
  INVALID_PARAMS: ProtocolErrorCode.InvalidParams,
  PAYLOAD_TOO_LARGE: ProtocolErrorCode.InvalidRequest,
  MANIFEST_INVALID: ProtocolErrorCode.InvalidParams,
  LOOP_DETECTED: ProtocolErrorCode.InvalidRequest,
  CALL_TIMEOUT: RPC_REQUEST_TIMEOUT,
  CHILD_EXITED: RPC_CONNECTION_CLOSED,
  CHILD_START_FAILED: RPC_CONNECTION_CLOSED,
  SERVICE_UNAVAILABLE: RPC_CONNECTION_CLOSED,
  CALL_CANCELLED: RPC_REQUEST_TIMEOUT,
  PROXY_UNREACHABLE: RPC_CONNECTION_CLOSED,
  TOOL_ERROR: ProtocolErrorCode.InternalError,
  FORBIDDEN: ProtocolErrorCode.InvalidRequest,
  CONFLICT: ProtocolErrorCode.InvalidParams,
  NO_FREE_PORT: ProtocolErrorCode.InternalError,
  PORT_IN_USE: ProtocolErrorCode.InternalError,
  REGISTRY_CORRUPT: ProtocolErrorCode.InternalError,
  INTERNAL: ProtocolErrorCode.InternalError,
};

const httpStatuses: Partial<Record<MeshErrorCode, number>> = {
  SERVICE_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  BAD_REQUEST: 400,
  INVALID_PARAMS: 400,
  MANIFEST_INVALID: 400,
  LOOP_DETECTED: 508,
  PAYLOAD_TOO_LARGE: 413,
  FORBIDDEN: 403,
  CONFLICT: 409,
  CALL_TIMEOUT: 504,
  CHILD_EXITED: 502,
  CHILD_START_FAILED: 502,
  SERVICE_UNAVAILABLE: 503,
  PROXY_UNREACHABLE: 503,
};

/** Numeric JSON-RPC code for a mesh error code. */
export function jsonRpcCodeFor(code: MeshErrorCode): number {
  return jsonRpcCodes[code];
}

/** HTTP status for a mesh error code (500 when nothing more specific fits). */
export function httpStatusFor(code: MeshErrorCode): number {
  return httpStatuses[code] ?? 500;
}

/** Reduces any thrown value to a MeshError, keeping the original as `cause`. */
export function toMeshError(error: unknown): MeshError {
  if (error instanceof MeshError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MeshError('INTERNAL', message, { cause: error });
}

/** The JSON-RPC error response for a failed request; `data` carries the mesh code and context. */
export function toJsonRpcError(id: RequestId, error: unknown): JSONRPCErrorResponse {
  const mesh = toMeshError(error);
  return {
    jsonrpc: '2.0',
    id,
    error: { code: jsonRpcCodeFor(mesh.code), message: mesh.message, data: { code: mesh.code, ...mesh.context } },
  };
}

/** A JSON-RPC error answered over HTTP before a request's id was read (id null), with the HTTP status for its code. */
export interface HttpJsonRpcError {
  status: number;
  body: { jsonrpc: '2.0'; id: null; error: JSONRPCErrorResponse['error'] };
}

/**
 * The HTTP answer to a request refused as a whole (a server draining, every session busy): the
 * status for the mesh code, and the same JSON-RPC error body toJsonRpcError gives, with id null.
 * @example const { status, body } = toHttpJsonRpcError(new MeshError('SERVICE_UNAVAILABLE', 'shutting down'))
 */
export function toHttpJsonRpcError(error: unknown): HttpJsonRpcError {
  const mesh = toMeshError(error);
  return { status: httpStatusFor(mesh.code), body: { jsonrpc: '2.0', id: null, error: toJsonRpcError(0, mesh).error } };
}
