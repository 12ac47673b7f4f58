import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  type ClientCapabilities,
  type Implementation,
  type LoggingLevel,
} from '@modelcontextprotocol/client';
import { MODERN_REVISION } from '../../src/era/revision.js';

// The methods whose Mcp-Name header mirrors a param (SEP-2243), and which param.
const NAMED: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

// A header value sent as is: printable ASCII, no surrounding blanks (anything else the SDK client encodes).
const PLAIN_HEADER = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** One stateless 2026-07-28 request: its params with the `_meta` envelope, and its standard headers. */
export interface ModernRequest {
  params: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The params and headers of `method` as a stateless 2026-07-28 request from `clientInfo` (with
 * the capabilities `declared` by the client the proxy serves it for), or
 * undefined when its Mcp-Name would need encoding (the SDK client sends those).
 */
export function modernRequest(method: string, params: Record<string, unknown>, clientInfo: Implementation, declared: ClientCapabilities = {}, logLevel?: LoggingLevel): ModernRequest | undefined {
  const headers: Record<string, string> = { 'mcp-method': method };
  const named = NAMED[method];
  if (named) {
    const value = params[named];
    if (typeof value !== 'string' || !PLAIN_HEADER.test(value)) return undefined;
    headers['mcp-name'] = value;
  }
  const meta = typeof params._meta === 'object' && params._meta !== null ? (params._meta as Record<string, unknown>) : {};
  const envelope = {
    ...meta,
    [PROTOCOL_VERSION_META_KEY]: MODERN_REVISION,
    [CLIENT_INFO_META_KEY]: clientInfo,
    [CLIENT_CAPABILITIES_META_KEY]: declared,
    ...(logLevel && { [LOG_LEVEL_META_KEY]: logLevel }),
  };
  return { params: { ...params, _meta: envelope }, headers };
}

/**
 * An instance answered a request with an InputRequiredResult (MRTR): it needs the client's input
 * first. Not a failure: the router names the instance that asked (the retry must go back to it)
 * and the endpoint hands the requests to its client with a requestState of its own.
 */
export class InputRequired extends Error {
  override name = 'InputRequired';
  /** The instance that asked (set by the router). */
  instanceId = '';

  constructor(
    readonly method: string,
    readonly inputRequests: Record<string, unknown> | undefined,
    readonly requestState: string | undefined,
  ) {
    super(`the instance needs the client's input before it can answer ${method}`);
  }
}

/** The MRTR retry of a request: the client's answers, sent to the instance that asked with the state it gave. */
export interface InputRetry {
  instanceId: string;
  inputResponses: unknown;
  requestState?: string | undefined;
}

/**
 * An instance's 2026-07-28 result as the rest of the proxy knows results: `resultType` consumed,
 * the cache fields and the instance's identity dropped (the proxy answers as itself).
 * @throws InputRequired for an MRTR input_required result; ProtocolError for another kind, or none
 */
export function completeResult(method: string, result: unknown): unknown {
  const { resultType, ttlMs: _ttl, cacheScope: _scope, ...rest } = result as Record<string, unknown>;
  if (resultType === 'input_required') {
    const { inputRequests, requestState } = rest as { inputRequests?: Record<string, unknown>; requestState?: unknown };
    throw new InputRequired(method, inputRequests, typeof requestState === 'string' ? requestState : undefined);
  }
  if (resultType !== 'complete') {
    throw new ProtocolError(ProtocolErrorCode.InternalError, `the instance's ${method} result has resultType ${JSON.stringify(resultType)}; the mesh-proxy relays only complete results here`);
  }
  return withoutInstanceIdentity(rest);
}

/** A result without the instance's serverInfo in `_meta`: the proxy answers its clients as itself. */
export function withoutInstanceIdentity<T>(result: T): T {
  const meta = (result as { _meta?: Record<string, unknown> })._meta;
  if (!meta || !(SERVER_INFO_META_KEY in meta)) return result;
  const { [SERVER_INFO_META_KEY]: _info, ...others } = meta;
  const { _meta: _dropped, ...rest } = result as Record<string, unknown>;
  return (Object.keys(others).length > 0 ? { ...rest, _meta: others } : rest) as T;
}
