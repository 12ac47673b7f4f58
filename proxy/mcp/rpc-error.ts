import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcCodeFor, toMeshError } from '../../src/errors.js';

/** The error an SDK request handler throws to answer with exactly this JSON-RPC code, message and data (no "MCP error" prefix). */
export function rpcError(code: number, message: string, data?: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code, data });
}

/**
 * A failure of the mesh as a JSON-RPC error: the mesh code's number, or the number the instance
 * itself answered with when it refused the request (resource not found, invalid params…).
 */
export function toRpcError(error: unknown): Error {
  const mesh = toMeshError(error);
  const answered = mesh.code === 'TOOL_ERROR' ? mesh.context.rpcCode : undefined;
  const code = typeof answered === 'number' && answered !== ErrorCode.ConnectionClosed ? answered : jsonRpcCodeFor(mesh.code);
  return rpcError(code, mesh.message, { code: mesh.code, ...mesh.context });
}
