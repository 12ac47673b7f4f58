import { MeshError, toJsonRpcError } from '../../src/errors.js';
import { parseMeshUri } from './resource-uris.js';

/** The error an SDK request handler throws to answer with exactly this JSON-RPC code, message and data (no "MCP error" prefix). */
export function rpcError(code: number, message: string, data?: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code, data });
}

/**
 * A failure of the mesh as the error an SDK handler throws: the JSON-RPC error toJsonRpcError
 * gives (the mesh code's number, or the number the instance itself refused the request with).
 */
export function toRpcError(error: unknown): Error {
  const { code, message, data } = toJsonRpcError(0, error).error;
  return rpcError(code, message, data as Record<string, unknown>);
}

/**
 * The service and its own uri behind an endpoint resource uri (or template uri, for completions).
 * @throws an InvalidParams error (data.code RESOURCE_NOT_FOUND) when `uri` is not a mesh uri
 */
export function meshUriOrThrow(uri: string): { service: string; uri: string } {
  const target = parseMeshUri(uri);
  if (target) return target;
  const message = `unknown resource "${uri}": resources of the mesh are named mesh://<service>/<the service's own uri> (see resources/list)`;
  throw toRpcError(new MeshError('RESOURCE_NOT_FOUND', message, { context: { uri } }));
}

/** The InvalidParams error for a prompt name the endpoint does not list (data.code PROMPT_NOT_FOUND). */
export function unknownPrompt(name: string): Error {
  const message = `unknown prompt "${name}": prompts of the mesh are named service__prompt (see prompts/list)`;
  return toRpcError(new MeshError('PROMPT_NOT_FOUND', message, { context: { prompt: name } }));
}
