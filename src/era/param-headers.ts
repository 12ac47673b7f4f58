import type { IncomingHttpHeaders } from 'node:http';
import type { JSONRPCErrorResponse, RequestId, Tool } from '@modelcontextprotocol/server';

/**
 * SEP-2243 `Mcp-Param-*` headers in front of a child: a tool's `inputSchema` may mark arguments with
 * `x-mcp-header`, and a 2026-07-28 `tools/call` must then repeat each such argument in its header.
 * The SDK checks this only inside McpServer's HTTP entry, with helpers it does not export, so the
 * sidecar (a low-level Server mirroring its child, and a lean path without any server) checks it here.
 */

/** JSON-RPC HeaderMismatch (2026-07-28); the SDK has no exported constant for it. */
export const HEADER_MISMATCH = -32020;

const X_MCP_HEADER = 'x-mcp-header';
const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** One argument a tool mirrors into a header: where it sits in `arguments`, the header's name, the property's type. */
export interface ParamHeader {
  path: readonly string[];
  header: string;
  type: string | undefined;
}

const declarationsOf = new WeakMap<Tool, readonly ParamHeader[]>();

/** The `x-mcp-header` declarations of a tool, found along chains of `properties` (cached per tool object). */
export function paramHeadersOf(tool: Tool): readonly ParamHeader[] {
  let found = declarationsOf.get(tool);
  if (found === undefined) {
    const list: ParamHeader[] = [];
    collect(tool.inputSchema, [], list);
    found = list;
    declarationsOf.set(tool, found);
  }
  return found;
}

function collect(schema: unknown, path: string[], into: ParamHeader[]): void {
  const properties = (schema as { properties?: unknown } | null | undefined)?.properties;
  if (typeof properties !== 'object' || properties === null) return;
  for (const [key, property] of Object.entries(properties as Record<string, unknown>)) {
    if (typeof property !== 'object' || property === null) continue;
    const header = (property as Record<string, unknown>)[X_MCP_HEADER];
    const type = (property as { type?: unknown }).type;
    if (typeof header === 'string' && header !== '') into.push({ path: [...path, key], header, type: typeof type === 'string' ? type : undefined });
    collect(property, [...path, key], into);
  }
}

/**
 * The HeaderMismatch answer (send with HTTP 400) when the request's `Mcp-Param-*` headers do not
 * repeat the arguments the tool marks; undefined when they agree. An argument absent or null needs no
 * header; a header whose `=?base64?…?=` value is not canonical Base64 of UTF-8 is refused.
 */
export function checkParamHeaders(tool: Tool, args: unknown, headers: IncomingHttpHeaders, id: RequestId): JSONRPCErrorResponse | undefined {
  for (const declared of paramHeadersOf(tool)) {
    const value = valueAt(args, declared.path);
    if (value === undefined || value === null) continue;
    const bodyText = primitiveText(value);
    if (bodyText === undefined) continue;
    const name = `Mcp-Param-${declared.header}`;
    const raw = headers[name.toLowerCase()];
    const argument = `arguments.${declared.path.join('.')}`;
    if (raw === undefined) return mismatch(id, name, `the body carries ${argument}=${JSON.stringify(value)} but the ${name} header is absent`);
    const decoded = Array.isArray(raw) ? undefined : decodeParam(raw);
    if (decoded === undefined) return mismatch(id, name, `the ${name} header is not a single value, or its =?base64?...?= value is not canonical Base64 of UTF-8 text`);
    const numeric = (declared.type === 'integer' || declared.type === 'number') && typeof value === 'number' && CANONICAL_DECIMAL.test(decoded);
    if (numeric ? Number(decoded) !== value : decoded !== bodyText) {
      return mismatch(id, name, `the ${name} header decodes to ${JSON.stringify(decoded)} but the body carries ${argument}=${JSON.stringify(value)}`);
    }
  }
  return undefined;
}

/**
 * The Mcp-Param-* headers a client sends with a call of `tool` (SEP-2243): each argument the tool
 * marks with x-mcp-header, as text, Base64-wrapped (`=?base64?...?=`) when it is not plain visible ASCII.
 */
export function paramHeadersFor(tool: Tool, args: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const declared of paramHeadersOf(tool)) {
    const text = primitiveText(valueAt(args, declared.path));
    if (text === undefined) continue;
    headers[`mcp-param-${declared.header.toLowerCase()}`] = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(text)
      ? text
      : `${BASE64_PREFIX}${Buffer.from(text, 'utf8').toString('base64')}${BASE64_SUFFIX}`;
  }
  return headers;
}

function mismatch(id: RequestId, header: string, body: string): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: { code: HEADER_MISMATCH, message: `Bad Request: the request headers and body disagree: ${body}`, data: { mismatch: { header, body } } } };
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function primitiveText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

// A value wrapped in =?base64?…?= is decoded (undefined when not canonical Base64 or not UTF-8); any other is literal.
function decodeParam(value: string): string | undefined {
  if (!(value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX) && value.length >= BASE64_PREFIX.length + BASE64_SUFFIX.length)) return value;
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}
