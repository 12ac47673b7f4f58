import { ProtocolErrorCode } from '@modelcontextprotocol/server';
import { jsonRpcCodeFor, RPC_CONNECTION_CLOSED, toMeshError } from '../../src/errors.js';
import { parseMeshUri } from './resource-uris.js';

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
  const code = typeof answered === 'number' && answered !== RPC_CONNECTION_CLOSED ? answered : jsonRpcCodeFor(mesh.code);
  return rpcError(code, mesh.message, { code: mesh.code, ...mesh.context });
}

/**
 * The service and its own uri behind an endpoint resource uri (or template uri, for completions).
 * @throws an InvalidParams error (data.code RESOURCE_NOT_FOUND) when `uri` is not a mesh uri
 */
export function meshUriOrThrow(uri: string): { service: string; uri: string } {
  const target = parseMeshUri(uri);
  if (target) return target;
  throw rpcError(ProtocolErrorCode.InvalidParams, `unknown resource "${uri}": resources of the mesh are named mesh://<service>/<the service's own uri> (see resources/list)`, {
    code: 'RESOURCE_NOT_FOUND',
    uri,
  });
}

/** The InvalidParams error for a prompt name the endpoint does not list (data.code PROMPT_NOT_FOUND). */
export function unknownPrompt(name: string): Error {
  return rpcError(ProtocolErrorCode.InvalidParams, `unknown prompt "${name}": prompts of the mesh are named service__prompt (see prompts/list)`, { code: 'PROMPT_NOT_FOUND', prompt: name });
}
