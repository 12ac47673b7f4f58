// Media types parsed, not matched by substring: Content-Type essences, Accept ranges with q-values,
// and the plain-call test of the lean paths that rests on them.
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { isPlainCall } from '../../src/http/hot-path.js';
import { mediaTypeOf, parseAccept, prefersJsonOverSse } from '../../src/http/media-type.js';

t.test('mediaTypeOf: the essence of a Content-Type, lowercase, without parameters; undefined when absent or malformed', async (t) => {
  t.equal(mediaTypeOf('Text/Event-Stream; charset=utf-8'), 'text/event-stream');
  t.equal(mediaTypeOf('application/json'), 'application/json');
  t.equal(mediaTypeOf('text/event-streamish'), 'text/event-streamish', 'a longer subtype is another type (a prefix check would take it)');
  t.equal(mediaTypeOf(undefined), undefined);
  t.equal(mediaTypeOf(''), undefined);
  t.equal(mediaTypeOf('not a media type'), undefined);
});

t.test('parseAccept: ranges in order with their q-values; quoted commas stay inside a range; malformed ranges and q-values are skipped or count as 1', async (t) => {
  t.same(parseAccept('text/event-stream;q=0.5, Application/JSON'), [
    { essence: 'text/event-stream', q: 0.5, index: 0 },
    { essence: 'application/json', q: 1, index: 1 },
  ]);
  t.same(parseAccept('text/plain;note="a, b";q=0.2, */*;q=0'), [
    { essence: 'text/plain', q: 0.2, index: 0 },
    { essence: '*/*', q: 0, index: 1 },
  ]);
  t.same(parseAccept('garbage, application/json;q=7'), [{ essence: 'application/json', q: 1, index: 0 }]);
  t.same(parseAccept(undefined), []);
  t.same(parseAccept(' , '), []);
});

t.test('prefersJsonOverSse: both named, JSON ranked first by q or, at equal q, by order', async (t) => {
  t.ok(prefersJsonOverSse('application/json, text/event-stream'));
  t.notOk(prefersJsonOverSse('text/event-stream, application/json'), 'SSE listed first at equal q');
  t.ok(prefersJsonOverSse('text/event-stream;q=0.5, application/json'), 'SSE listed first but with a lower q');
  t.notOk(prefersJsonOverSse('application/json;q=0.4, text/event-stream'), 'JSON listed first but with a lower q');
  t.notOk(prefersJsonOverSse('application/json, text/event-stream;q=0'), 'SSE refused (q=0)');
  t.notOk(prefersJsonOverSse('application/json'), 'no SSE');
  t.notOk(prefersJsonOverSse('*/*'), 'wildcards name neither');
  t.notOk(prefersJsonOverSse('application/jsonx, text/event-stream'), 'a longer subtype is not JSON');
  t.notOk(prefersJsonOverSse(undefined));
  t.ok(prefersJsonOverSse('application/json, text/event-stream'), 'the kept answer of the last header is the right one');
});

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } };
const plainHeaders = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };

t.test('isPlainCall: one request sent as JSON by a client that prefers JSON; everything else is left to the SDK transport', async (t) => {
  t.ok(isPlainCall(request(plainHeaders), call));
  t.ok(isPlainCall(request({ ...plainHeaders, accept: 'text/event-stream;q=0.9, application/json' }), call), 'q-values read, not the order of substrings');
  t.ok(isPlainCall(request({ ...plainHeaders, 'content-type': 'Application/JSON; charset=utf-8' }), call), 'Content-Type parameters and case');
  t.notOk(isPlainCall(request({ ...plainHeaders, accept: 'text/event-stream, application/json' }), call), 'SSE preferred');
  t.notOk(isPlainCall(request({ ...plainHeaders, 'content-type': 'text/plain' }), call), 'not sent as JSON: the SDK answers 415');
  t.notOk(isPlainCall(request(plainHeaders), { ...call, params: { name: 'echo', _meta: { progressToken: 1 } } }), 'a progress token');
  t.notOk(isPlainCall(request(plainHeaders), { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }), 'initialize');
  t.notOk(isPlainCall(request(plainHeaders), [call]), 'a batch');
  t.notOk(isPlainCall(request({ ...plainHeaders, 'mcp-protocol-version': '1999-01-01' }), call), 'a version this server does not speak');
});
