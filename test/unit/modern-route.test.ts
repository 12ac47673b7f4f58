import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { modernRoute, verdictKey } from '../../src/http/modern-route.js';

// modernRoute remembers the classifier's modern verdicts on tools/call requests by what decides them
// (verdictKey). Whatever the memo holds, its answer must equal the SDK classifier's own, request by
// request: this test warms the memo with a plain call, then checks variants that differ in one thing.

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'differential', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
const plain = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, _meta: envelope } };

const req = (h: Record<string, string>, method = 'POST') => ({ method, headers: h }) as unknown as IncomingMessage;

// What the SDK says, in the shape modernRoute returns (undefined for legacy and for a shape rejection).
function direct(h: Record<string, string>, body: unknown) {
  const outcome = classifyInboundRequest({
    httpMethod: 'POST',
    ...(h['mcp-protocol-version'] !== undefined && { protocolVersionHeader: h['mcp-protocol-version'] }),
    ...(h['mcp-method'] !== undefined && { mcpMethodHeader: h['mcp-method'] }),
    ...(h['mcp-name'] !== undefined && { mcpNameHeader: h['mcp-name'] }),
    body,
  });
  if (outcome.kind === 'modern') return { kind: outcome.kind, message: outcome.message, classification: outcome.classification };
  if (outcome.kind === 'reject' && outcome.rung !== 'jsonrpc-shape') return { kind: outcome.kind, rung: outcome.rung };
  return undefined;
}

function seen(route: ReturnType<typeof modernRoute>) {
  if (route === undefined) return undefined;
  if (route.kind === 'modern') return { kind: route.kind, message: route.message, classification: route.classification };
  return { kind: route.kind, rung: route.rung };
}

const variants: [string, Record<string, string>, unknown][] = [
  ['the same call again', headers, plain],
  ['another id', headers, { ...plain, id: 'x-7' }],
  ['another tool and arguments', { ...headers, 'mcp-name': 'other' }, { ...plain, params: { ...plain.params, name: 'other', arguments: { n: 1 } } }],
  ['a name header that disagrees with the body', { ...headers, 'mcp-name': 'different' }, plain],
  ['a fractional id', headers, { ...plain, id: 1.5 }],
  ['a null id', headers, { ...plain, id: null }],
  ['an extra member', headers, { ...plain, extra: true }],
  ['jsonrpc 1.0', headers, { ...plain, jsonrpc: '1.0' }],
  ['a method header that disagrees', { ...headers, 'mcp-method': 'tools/list' }, plain],
  ['a version header that disagrees', { ...headers, 'mcp-protocol-version': '2025-11-25' }, plain],
  ['no version header', { 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, plain],
  ['an envelope version that is not served', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } }],
  ['an envelope without client info', headers, { ...plain, params: { ...plain.params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }],
  ['client info of the wrong type', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, 'io.modelcontextprotocol/clientInfo': 'me' } } }],
  ['a progress token', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, progressToken: 'p' } } }],
  ['a progress token of the wrong type', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, progressToken: { no: 1 } } } }],
  ['params that are an array', headers, { ...plain, params: [] }],
  ['a trace context', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' } } }],
  ['a trace context that is not W3C', headers, { ...plain, params: { ...plain.params, _meta: { ...envelope, traceparent: 'junk', tracestate: 42 } } }],
  ['another method', { ...headers, 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }],
];

t.test('a memoized verdict is the classifier verdict, for every variant of a warmed call', async (t) => {
  t.ok(verdictKey(req(headers), plain), 'a plain call has a key');
  t.same(seen(modernRoute(req(headers), plain)), direct(headers, plain), 'the first call: classified');
  for (const [what, h, body] of variants) {
    t.same(seen(modernRoute(req(h), body)), direct(h, body), what);
    // Once more: a variant the memo now holds gives the same answer.
    t.same(seen(modernRoute(req(h), body)), direct(h, body), `${what} (again)`);
  }
});

t.test('the memoized route carries the request it was asked about', async (t) => {
  const first = modernRoute(req(headers), plain);
  const second = { ...plain, id: 99, params: { ...plain.params, arguments: { text: 'second' } } };
  const route = modernRoute(req(headers), second);
  t.equal(route?.kind, 'modern');
  if (route?.kind === 'modern') t.equal(route.message, second, 'its message is this request, not the one that warmed the memo');
  t.not(route, first);
});

t.test('verdictKey: only plain tools/call requests are remembered', async (t) => {
  t.equal(verdictKey(req(headers), { ...plain, params: { ...plain.params, _meta: { ...envelope, progressToken: 1 } } }), undefined, 'a progress token is unique per request');
  t.equal(verdictKey(req(headers), { ...plain, method: 'tools/list' }), undefined);
  t.equal(verdictKey(req(headers), { ...plain, extra: 1 }), undefined);
  t.equal(verdictKey(req(headers), { ...plain, params: { name: 'echo' } }), undefined, 'no envelope');
  t.not(verdictKey(req(headers), plain), verdictKey(req({ ...headers, 'mcp-method': 'x' }), plain), 'the headers are part of it');
  const traced = { ...plain, params: { ...plain.params, _meta: { ...envelope, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } } };
  t.equal(verdictKey(req(headers), traced), verdictKey(req(headers), plain), 'a trace context (new on every call) is not');
});
