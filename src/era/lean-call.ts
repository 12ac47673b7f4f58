import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, LOG_LEVEL_META_KEY, ProtocolErrorCode, SERVER_INFO_META_KEY, type InboundModernRoute, type JSONRPCRequest } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import { toJsonRpcError } from '../errors.js';
import { clientCapabilitiesOf } from './mirror-server.js';
import type { InputRounds, RoundOutcome } from './input-rounds.js';
import { ModernCall } from './modern-call.js';
import { MODERN_REVISIONS, withoutEnvelope } from './revision.js';

/**
 * True for the modern request the lean path may answer without a per-request SDK server: a
 * `tools/call` whose standard headers repeat the body (callHeadersAgree), with no progress token, no
 * log level and no MRTR retry fields. Anything else, including every request the SDK would refuse,
 * goes to the SDK, which owns those answers.
 */
export function isLeanCall(req: IncomingMessage, route: InboundModernRoute): boolean {
  if (!callHeadersAgree(req, route)) return false;
  const params = route.message.params ?? {};
  if ('inputResponses' in params || 'requestState' in params) return false;
  const meta = params._meta;
  if (meta?.progressToken !== undefined || meta?.[LOG_LEVEL_META_KEY] !== undefined) return false;
  return isJsonContentType(req.headers['content-type']);
}

/**
 * True for a `tools/call` at a revision the SDK serves whose standard headers repeat the body exactly
 * (revision, method, plain name): the SDK's own header checks would let it through.
 */
export function callHeadersAgree(req: IncomingMessage, route: InboundModernRoute): route is InboundModernRoute & { messageKind: 'request'; message: JSONRPCRequest } {
  if (route.messageKind !== 'request' || route.message.method !== 'tools/call') return false;
  const name = route.message.params?.name;
  const headers = req.headers;
  const revision = route.classification.revision;
  return (
    typeof name === 'string' &&
    revision !== undefined &&
    MODERN_REVISIONS.includes(revision) &&
    headers['mcp-protocol-version'] === revision &&
    headers['mcp-method'] === 'tools/call' &&
    headers['mcp-name'] === name
  );
}

/** Forwards the call and answers with one JSON body: the child's result stamped for 2026-07-28, or an InputRequiredResult. */
export function serveLean(bridge: Bridge, rounds: InputRounds, message: JSONRPCRequest, res: ServerResponse): void {
  const serverInfo = bridge.serverInit?.serverInfo;
  const call = new ModernCall(bridge, { ...message, params: withoutEnvelope(message.params ?? {}) }).start();
  res.once('close', () => {
    if (!res.writableFinished) call.cancel('the client closed the request');
  });
  const capabilities = clientCapabilitiesOf(message.params?._meta);
  rounds.settle(call, capabilities).then(
    (outcome) => send(res, message.id, outcome, serverInfo),
    (error: Error) => send(res, message.id, { kind: 'answer', message: toJsonRpcError(message.id, error) }, serverInfo),
  );
}

function send(res: ServerResponse, id: string | number, outcome: RoundOutcome, serverInfo: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  let body: string;
  let status = 200;
  if (outcome.kind === 'input') {
    const result = { resultType: 'input_required', inputRequests: outcome.inputRequests, requestState: outcome.requestState, _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
    body = JSON.stringify({ jsonrpc: '2.0', id, result });
  } else if ('error' in outcome.message) {
    body = JSON.stringify({ jsonrpc: '2.0', id, error: outcome.message.error });
    // The one in-band error HTTP carries as 400 too (2026-07-28 transports), as the SDK path answers it.
    if (outcome.message.error.code === ProtocolErrorCode.MissingRequiredClientCapability) status = 400;
  } else {
    const result = outcome.message.result as Record<string, unknown>;
    const meta = result._meta as Record<string, unknown> | undefined;
    const stamped = {
      ...result,
      content: Array.isArray(result.content) ? result.content : [],
      resultType: 'complete',
      _meta: meta?.[SERVER_INFO_META_KEY] === undefined ? { ...meta, [SERVER_INFO_META_KEY]: serverInfo } : meta,
    };
    body = JSON.stringify({ jsonrpc: '2.0', id, result: stamped });
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
