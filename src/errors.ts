import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, type JSONRPCErrorResponse, type RequestId } from '@modelcontextprotocol/client';

/**
 * MM's wire codes for a deadline and for a child or connection that is gone. They are v1's
 * `ErrorCode.RequestTimeout` / `ConnectionClosed`; v2 keeps those only as SDK-local string codes
 * (`SdkErrorCode`), so the numbers MM has always answered with are spelled here.
 */
export const RPC_REQUEST_TIMEOUT = -32001;
export const RPC_CONNECTION_CLOSED = -32000;

// The one table of MM's failures: each code's JSON-RPC code (MCP endpoints) and HTTP status (/v1
// API, refusals before a JSON-RPC id was read). Every wire form of a MeshError is derived from it.
const wire = {
  SERVICE_NOT_FOUND: { rpc: ProtocolErrorCode.InvalidParams, http: 404 },
  TOOL_NOT_FOUND: { rpc: ProtocolErrorCode.InvalidParams, http: 404 },
  /** An instance id the registry does not know (a heartbeat or deregistration after expiry: register again). */
  INSTANCE_NOT_FOUND: { rpc: ProtocolErrorCode.InvalidParams, http: 404 },
  /** A `mesh://` uri that names no service's resource. */
  RESOURCE_NOT_FOUND: { rpc: ProtocolErrorCode.InvalidParams, http: 404 },
  /** A prompt name no service offers. */
  PROMPT_NOT_FOUND: { rpc: ProtocolErrorCode.InvalidParams, http: 404 },
  /** An `Mcp-Session-Id` the server does not hold (expired, or the server restarted). */
  SESSION_NOT_FOUND: { rpc: RPC_REQUEST_TIMEOUT, http: 404 },
  /** No route for this method and path (the HTTP API's own 404). */
  NOT_FOUND: { rpc: ProtocolErrorCode.InvalidRequest, http: 404 },
  SERVICE_UNAVAILABLE: { rpc: RPC_CONNECTION_CLOSED, http: 503 },
  CALL_TIMEOUT: { rpc: RPC_REQUEST_TIMEOUT, http: 504 },
  CHILD_EXITED: { rpc: RPC_CONNECTION_CLOSED, http: 502 },
  CHILD_START_FAILED: { rpc: RPC_CONNECTION_CLOSED, http: 502 },
  CALL_CANCELLED: { rpc: RPC_REQUEST_TIMEOUT, http: 500 },
  TOOL_ERROR: { rpc: ProtocolErrorCode.InternalError, http: 500 },
  BAD_REQUEST: { rpc: ProtocolErrorCode.InvalidRequest, http: 400 },
  /** A request's params are not what its method takes (a tools/call whose `arguments` is not an object): the caller's error. */
  INVALID_PARAMS: { rpc: ProtocolErrorCode.InvalidParams, http: 400 },
  PAYLOAD_TOO_LARGE: { rpc: ProtocolErrorCode.InvalidRequest, http: 413 },
  /** A missing or wrong bearer token (answered with a `WWW-Authenticate` challenge). */
  UNAUTHORIZED: { rpc: RPC_REQUEST_TIMEOUT, http: 401 },
  FORBIDDEN: { rpc: ProtocolErrorCode.InvalidRequest, http: 403 },
  CONFLICT: { rpc: ProtocolErrorCode.InvalidParams, http: 409 },
  NO_FREE_PORT: { rpc: ProtocolErrorCode.InternalError, http: 500 },
  PORT_IN_USE: { rpc: ProtocolErrorCode.InternalError, http: 500 },
  LOOP_DETECTED: { rpc: ProtocolErrorCode.InvalidRequest, http: 508 },
  REGISTRY_CORRUPT: { rpc: ProtocolErrorCode.InternalError, http: 500 },
  MANIFEST_INVALID: { rpc: ProtocolErrorCode.InvalidParams, http: 400 },
  PROXY_UNREACHABLE: { rpc: RPC_CONNECTION_CLOSED, http: 503 },
  INTERNAL: { rpc: ProtocolErrorCode.InternalError, http: 500 },
} as const satisfies Record<string, { rpc: number; http: number }>;

/** Every failure MM reports has one of these codes; the wire form is derived from it in one place. */
export type MeshErrorCode = keyof typeof wire;

/** Every MeshErrorCode, in the table's order. */
export const MESH_ERROR_CODES = Object.keys(wire) as readonly MeshErrorCode[];

/** True when `value` is one of MM's error codes (a code read off the wire may be anything). */
export function isMeshErrorCode(value: unknown): value is MeshErrorCode {
  return typeof value === 'string' && Object.hasOwn(wire, value);
}

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

/** Numeric JSON-RPC code for a mesh error code (InternalError for a string that is not one). */
export function jsonRpcCodeFor(code: MeshErrorCode): number {
  return isMeshErrorCode(code) ? wire[code].rpc : ProtocolErrorCode.InternalError;
}

/** HTTP status for a mesh error code (500 for a string that is not one). */
export function httpStatusFor(code: MeshErrorCode): number {
  return isMeshErrorCode(code) ? wire[code].http : 500;
}

// v1's McpError carried one numeric code for wire errors and for the client's own timeouts and closed
// connections; v2 splits them (ProtocolError: the wire code; SdkError: a string code). MM decides on the number.
/**
 * The JSON-RPC code a failed SDK request stands for: the peer's own code, -32001 for a deadline,
 * -32000 for a lost connection; undefined for anything else (an HTTP error, a bug).
 * @example rpcCodeOf(new SdkError(SdkErrorCode.RequestTimeout, 'timed out')) // -32001
 */
export function rpcCodeOf(error: unknown): number | undefined {
  if (error instanceof ProtocolError) return error.code;
  if (!(error instanceof SdkError)) return undefined;
  if (error.code === SdkErrorCode.RequestTimeout) return RPC_REQUEST_TIMEOUT;
  if (error.code === SdkErrorCode.ConnectionClosed) return RPC_CONNECTION_CLOSED;
  return undefined;
}

/** Reduces any thrown value to a MeshError, keeping the original as `cause`. */
export function toMeshError(error: unknown): MeshError {
  if (error instanceof MeshError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MeshError('INTERNAL', message, { cause: error });
}

// The context minus the two keys the wire forms own, so no context can rename or reword an error.
function extraContext(mesh: MeshError): Record<string, unknown> {
  const { code: _code, message: _message, ...rest } = mesh.context;
  return rest;
}

/**
 * The JSON-RPC error response for a failed request; `data` carries the mesh code and context. A
 * TOOL_ERROR that an instance answered with its own JSON-RPC code (`context.rpcCode`, say -32602 for
 * its invalid params) keeps that code, unless it is -32000 (the hop's own connection failure).
 * @example reply(toJsonRpcError(request.id, new MeshError('TOOL_NOT_FOUND', 'no tool "x"')))
 */
export function toJsonRpcError(id: RequestId, error: unknown): JSONRPCErrorResponse {
  const mesh = toMeshError(error);
  const answered = mesh.code === 'TOOL_ERROR' ? mesh.context.rpcCode : undefined;
  const code = typeof answered === 'number' && Number.isInteger(answered) && answered !== RPC_CONNECTION_CLOSED ? answered : jsonRpcCodeFor(mesh.code);
  return { jsonrpc: '2.0', id, error: { code, message: mesh.message, data: { code: mesh.code, ...extraContext(mesh) } } };
}

/** A JSON-RPC error answered over HTTP before a request's id was read (id null), with the HTTP status for its code. */
export interface HttpJsonRpcError {
  status: number;
  body: { jsonrpc: '2.0'; id: null; error: JSONRPCErrorResponse['error'] };
}

/**
 * The MeshError of a JSON-RPC error answer (what toJsonRpcError wrote, read back): the mesh code
 * its data names when it is one of MM's, INTERNAL otherwise; the JSON-RPC code kept as `rpcCode`.
 */
export function fromJsonRpcError(answer: JSONRPCErrorResponse): MeshError {
  const named = (answer.error.data as { code?: unknown } | undefined)?.code;
  return new MeshError(isMeshErrorCode(named) ? named : 'INTERNAL', answer.error.message, { context: { rpcCode: answer.error.code } });
}

/**
 * The HTTP answer to an MCP request refused as a whole (a server draining, every session busy, a
 * wrong token): the status for the mesh code, and the same JSON-RPC error body toJsonRpcError gives, with id null.
 * @example const { status, body } = toHttpJsonRpcError(new MeshError('SERVICE_UNAVAILABLE', 'shutting down'))
 */
export function toHttpJsonRpcError(error: unknown): HttpJsonRpcError {
  const mesh = toMeshError(error);
  return { status: httpStatusFor(mesh.code), body: { jsonrpc: '2.0', id: null, error: toJsonRpcError(0, mesh).error } };
}

/** The error body of MM's HTTP APIs (the proxy's /v1, an instance's and the control channel's other paths). */
export interface HttpErrorBody {
  error: { code: MeshErrorCode; message: string; [context: string]: unknown };
}

/** An HTTP API's answer to a failed request: the status for the mesh code and its body. */
export interface HttpError {
  status: number;
  body: HttpErrorBody;
}

/**
 * The HTTP answer of a failed API request (not MCP): `{ error: { code, message, ...context } }`
 * with the status for the mesh code. MeshClient reads it back (src/client/error-from-response.ts).
 * @example const { status, body } = toHttpError(new MeshError('SERVICE_NOT_FOUND', 'unknown service "fs"')); return c.json(body, status)
 */
export function toHttpError(error: unknown): HttpError {
  const mesh = toMeshError(error);
  return { status: answeredStatus(mesh) ?? httpStatusFor(mesh.code), body: { error: { code: mesh.code, message: mesh.message, ...extraContext(mesh) } } };
}

// An instance that refused what the caller sent (bad arguments, no such method) refused the caller, not the mesh: a 4xx, as its JSON-RPC code says.
const CALLER_REFUSALS: Readonly<Record<number, number>> = {
  [ProtocolErrorCode.ParseError]: 400,
  [ProtocolErrorCode.InvalidRequest]: 400,
  [ProtocolErrorCode.InvalidParams]: 400,
  [ProtocolErrorCode.MethodNotFound]: 404,
};

function answeredStatus(mesh: MeshError): number | undefined {
  const answered = mesh.code === 'TOOL_ERROR' ? mesh.context.rpcCode : undefined;
  return typeof answered === 'number' ? CALLER_REFUSALS[answered] : undefined;
}
