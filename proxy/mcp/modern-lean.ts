import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type ClientCapabilities,
  LOG_LEVEL_META_KEY,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  type Implementation,
} from '@modelcontextprotocol/server';
import type { ModernRoute } from '../../src/http/front-door.js';
import { toJsonRpcError } from '../../src/errors.js';
import { sendJson } from '../../src/http/mcp-post.js';
import { CallCancel } from '../router/call-cancel.js';
import { callHeadersAgree } from '../../src/era/lean-call.js';
import { InputRequired } from '../router/modern-hop.js';
import { metaWithHeaderTrace } from '../../src/tracing/trace-context.js';
import type { MeshSurface } from './mesh-handlers.js';

const ClientInfoSchema = z.object({ name: z.string().min(1).max(128) });

/** The calling client's name as a 2026-07-28 request's envelope gives it (the audit's caller). */
export function callerNamed(envelope: unknown): string {
  const info = ClientInfoSchema.safeParse((envelope as Record<string, unknown> | undefined)?.[CLIENT_INFO_META_KEY]);
  return info.success ? info.data.name : 'mcp-client';
}

/** What a 2026-07-28 client can be asked, from its envelope (validated by the SDK's classifier): its elicitation, sampling and roots. */
export function declaredBy(envelope: unknown): ClientCapabilities | undefined {
  const declared = (envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
  if (!isObject(declared)) return undefined;
  const { elicitation, sampling, roots } = declared as ClientCapabilities;
  return elicitation || sampling || roots ? { ...(elicitation && { elicitation }), ...(sampling && { sampling }), ...(roots && { roots }) } : undefined;
}

/** A plain 2026-07-28 tools/call: nothing to stream back, nothing to validate beyond what the classifier did. */
export interface PlainModernCall {
  id: string | number;
  name: string;
  args: Record<string, unknown>;
  meta: Record<string, unknown>;
  caller: string;
  declared: ClientCapabilities | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The tools/call the lean path may answer without the SDK's per-request Server: a request the SDK
 * classified modern at 2026-07-28, its three standard headers present and agreeing with the body,
 * no progress token, no log level, no MRTR retry fields, no Mcp-Param-* headers to check. Anything
 * else is undefined and goes to the SDK handler, which owns every rejection.
 */
export function plainModernCall(req: IncomingMessage, route: ModernRoute, mirrorsParamHeaders: (name: string) => boolean): PlainModernCall | undefined {
  if (route.kind !== 'modern' || !callHeadersAgree(req, route)) return undefined;
  const { id, params } = route.message;
  if (!isObject(params)) return undefined;
  const { name, arguments: args = {}, _meta: meta, ...rest } = params;
  if (typeof name !== 'string' || !isObject(args) || !isObject(meta) || Object.keys(rest).length > 0) return undefined;
  if ('progressToken' in meta || LOG_LEVEL_META_KEY in meta) return undefined;
  if (mirrorsParamHeaders(name) || Object.keys(req.headers).some((header) => header.startsWith('mcp-param-'))) return undefined;
  return { id, name, args, meta: metaWithHeaderTrace(meta, (header) => req.headers[header]) as Record<string, unknown>, caller: callerNamed(meta), declared: declaredBy(meta) };
}

/**
 * Answers a plain modern call straight from the router, as the SDK would: the tool's result (tool
 * errors as results) with `resultType` and the server's identity, or the JSON-RPC error of a
 * protocol error. Closing the request cancels the call upstream (the 2026-07-28 cancellation).
 */
export async function answerPlainCall(res: ServerResponse, call: PlainModernCall, surface: MeshSurface, serverInfo: Implementation): Promise<void> {
  const cancel = new CallCancel();
  res.once('close', () => {
    if (!res.writableFinished) cancel.cancel(new Error('the client closed the request'));
  });
  try {
    const result = await surface.answerToolCall(call.name, call.args, call.caller, { cancel, declared: call.declared, modern: true }, call.meta);
    sendJson(res, 200, { jsonrpc: '2.0', id: call.id, result: { ...result, resultType: 'complete', _meta: { ...result._meta, [SERVER_INFO_META_KEY]: serverInfo } } });
  } catch (error) {
    if (!(error instanceof InputRequired)) {
      const answer = toJsonRpcError(call.id, error);
      // As the SDK answers it: an in-band -32021 (a client capability missing) is a 400, every other error a 200.
      return sendJson(res, answer.error.code === ProtocolErrorCode.MissingRequiredClientCapability ? 400 : 200, answer);
    }
    // MRTR: the instance's requests go to the client, with the proxy's state naming the instance that asked.
    const asked = { resultType: 'input_required', inputRequests: error.inputRequests ?? {}, requestState: await surface.mrtr.stateFor('tools/call', call.name, error) };
    sendJson(res, 200, { jsonrpc: '2.0', id: call.id, result: { ...asked, _meta: { [SERVER_INFO_META_KEY]: serverInfo } } });
  }
}
