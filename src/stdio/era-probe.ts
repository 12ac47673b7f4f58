import { DiscoverResultSchema } from '@modelcontextprotocol/core';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  type ClientCapabilities,
  type DiscoverResult,
  type Implementation,
  type JSONRPCErrorResponse,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
} from '@modelcontextprotocol/server';
import { MODERN_REVISION } from '../era/revision.js';

/** Which MCP era a child speaks: `modern` (2026-07-28, per-request `_meta`) or `legacy` (the `initialize` handshake). */
export type ChildEra = 'modern' | 'legacy';

/** The id of the probe: a string, so it never meets the bridge's numeric ids on the child's pipe. */
export const PROBE_ID = 'mesh-era-probe';

/** The per-request `_meta` envelope a 2026-07-28 client puts on every request. */
export function modernEnvelope(clientInfo: Implementation, capabilities: ClientCapabilities): Record<string, unknown> {
  return {
    [PROTOCOL_VERSION_META_KEY]: MODERN_REVISION,
    [CLIENT_CAPABILITIES_META_KEY]: capabilities,
    [CLIENT_INFO_META_KEY]: clientInfo,
  };
}

/** The stdio probe of the spec's backward-compatibility rule: `server/discover` with a modern envelope. */
export function probeRequest(clientInfo: Implementation, capabilities: ClientCapabilities): JSONRPCRequest {
  return { jsonrpc: '2.0', id: PROBE_ID, method: 'server/discover', params: { _meta: modernEnvelope(clientInfo, capabilities) } };
}

// The spec's stdio rule: a DiscoverResult offering our revision is a modern server; any other answer
// (method not found, a non-modern error, an unreadable result) is a legacy one. A -32022 naming only
// revisions we do not speak leaves nothing modern to talk, so the legacy handshake is tried too.
/** The child's DiscoverResult when its answer to the probe proves it modern, else undefined (legacy). */
export function modernDiscovery(answer: JSONRPCResultResponse | JSONRPCErrorResponse): DiscoverResult | undefined {
  if ('error' in answer) return undefined;
  const parsed = DiscoverResultSchema.safeParse(answer.result);
  if (!parsed.success || !parsed.data.supportedVersions.includes(MODERN_REVISION)) return undefined;
  return parsed.data;
}
