import t from 'tap';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, startHop, tracingOn, useTracer } from '../../src/tracing/hop-span.js';
import { carrierFrom, carrierOf, metaWithHeaderTrace, newTraceCarrier, spanContextOf, traceIdOf, withTraceMeta } from '../../src/tracing/trace-context.js';
import { Router, type AuditRecord } from '../../proxy/router/router.js';

// W3C trace context in and out of `_meta` and headers, the hop spans with tracing off (a
// pass-through) and on (an in-memory exporter), and the trace id the router puts on audit records.
const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;
const headers = (values: Record<string, string | string[]>) => (name: string) => values[name];

t.test('extraction: _meta first, then headers, else nothing', async (t) => {
  t.same(carrierFrom({ traceparent: PARENT, tracestate: 'a=1', other: 1 }), { traceparent: PARENT, tracestate: 'a=1' }, 'both keys from _meta');
  t.same(carrierFrom({ traceparent: PARENT }, headers({ traceparent: 'ignored' })), { traceparent: PARENT }, '_meta wins over headers');
  t.same(carrierFrom(undefined, headers({ traceparent: PARENT, tracestate: 'b=2' })), { traceparent: PARENT, tracestate: 'b=2' }, 'headers when _meta has none');
  t.same(carrierFrom({}, headers({ traceparent: [PARENT, 'x'] })), { traceparent: PARENT }, 'the first of a repeated header');
  t.equal(carrierFrom({ progressToken: 1 }, headers({})), undefined, 'none anywhere');
  t.equal(carrierFrom({ traceparent: 7 }), undefined, 'a non-string traceparent is not trace context');
});

t.test('parsing: only valid W3C traceparents name a span', async (t) => {
  t.match(spanContextOf({ traceparent: PARENT }), { traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
  t.equal(traceIdOf({ traceparent: PARENT }), TRACE_ID);
  t.equal(spanContextOf({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }), undefined, 'an all-zero trace id is invalid');
  t.equal(spanContextOf({ traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }), undefined, 'version ff is invalid');
  t.equal(spanContextOf({ traceparent: 'not a traceparent' }), undefined);
  t.equal(traceIdOf(undefined), undefined);
});

t.test('injection: a span context as traceparent/tracestate, into a copy of _meta', async (t) => {
  const span = spanContextOf({ traceparent: PARENT, tracestate: 'a=1,b=2' });
  t.ok(span);
  if (!span) return;
  t.same(carrierOf(span), { traceparent: PARENT, tracestate: 'a=1,b=2' }, 'round trip');
  const meta = { 'mesh/hops': 1 };
  const carried = withTraceMeta(meta, { traceparent: PARENT });
  t.same(carried, { 'mesh/hops': 1, traceparent: PARENT }, 'keys added');
  t.same(meta, { 'mesh/hops': 1 }, 'the original is not changed');
  t.equal(withTraceMeta(meta, undefined), meta, 'no context: the same object');
  const fresh = newTraceCarrier();
  t.match(fresh.traceparent, TRACEPARENT, 'a new trace is W3C and sampled');
  t.not(traceIdOf(fresh), traceIdOf(newTraceCarrier()), 'and new each time');
});

t.test('header trace context joins _meta only when _meta has none', async (t) => {
  const meta = { traceparent: PARENT };
  t.equal(metaWithHeaderTrace(meta, headers({ traceparent: 'other' })), meta, '_meta kept as is');
  t.same(metaWithHeaderTrace({ a: 1 }, headers({ traceparent: PARENT })), { a: 1, traceparent: PARENT }, 'the header fills in');
  t.same(metaWithHeaderTrace(undefined, headers({ traceparent: PARENT })), { traceparent: PARENT }, 'no _meta at all');
  t.equal(metaWithHeaderTrace(undefined, headers({})), undefined, 'nothing to add');
});

t.test('hops with tracing off pass the context on; a route starts a trace without one', async (t) => {
  t.equal(tracingOn(), false);
  const parent = { traceparent: PARENT, tracestate: 'a=1' };
  const hop = startHop('mesh.hop', SpanKind.CLIENT, parent);
  t.equal(hop.carrier, parent, 'the same context, untouched');
  t.equal(hop.traceId, TRACE_ID);
  t.equal(startHop('mesh.call', SpanKind.CLIENT, undefined).carrier, undefined, 'no context and not a root: none');
  const root = startHop('mesh.route', SpanKind.SERVER, undefined, undefined, true);
  t.match(root.carrier?.traceparent, TRACEPARENT, 'a root gets a new trace');
  t.equal(root.traceId, traceIdOf(root.carrier));
  const broken = startHop('mesh.route', SpanKind.SERVER, { traceparent: 'garbage' }, undefined, true);
  t.match(broken.carrier?.traceparent, TRACEPARENT, 'an invalid traceparent is replaced at the root');
});

t.test('hops with tracing on are child spans of the incoming context', async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  useTracer(provider.getTracer('test'));
  t.teardown(() => {
    useTracer(undefined);
    return provider.shutdown();
  });
  const route = startHop('mesh.route', SpanKind.SERVER, { traceparent: PARENT }, { 'mesh.service': 'fs' }, true);
  const hop = startHop('mesh.hop', SpanKind.CLIENT, route.carrier);
  hop.end(new Error('refused'));
  route.end();
  const [hopSpan, routeSpan] = exporter.getFinishedSpans();
  t.equal(routeSpan?.spanContext().traceId, TRACE_ID, 'the route continues the caller’s trace');
  t.equal(routeSpan?.parentSpanContext?.spanId, '00f067aa0ba902b7', "the caller's span is its parent");
  t.equal(hopSpan?.parentSpanContext?.spanId, routeSpan?.spanContext().spanId, 'the hop is a child of the route');
  t.equal(hopSpan?.status.code, 2, 'an error marks the span failed');
  t.equal(spanContextOf(hop.carrier)?.spanId, hopSpan?.spanContext().spanId, 'the next hop is told the hop span');
  const root = startHop('mesh.route', SpanKind.SERVER, undefined, undefined, true);
  root.end();
  t.match(root.traceId, /^[0-9a-f]{32}$/, 'a route without context is a new trace');
  t.not(root.traceId, TRACE_ID);
});

t.test('the router puts the trace id on the audit record', async (t) => {
  const records: AuditRecord[] = [];
  const router = new Router({ table: { instancesOf: () => [], toolsOf: () => [], serviceNames: () => [] }, deadlineMs: 1_000, audit: (record) => records.push(record) });
  t.teardown(() => router.close());
  await t.rejects(router.call('nowhere', 'tool', {}, { trace: { traceparent: PARENT } }), { code: 'SERVICE_NOT_FOUND' });
  await t.rejects(router.call('nowhere', 'tool', {}));
  t.equal(records[0]?.traceId, TRACE_ID, "the caller's trace");
  t.match(records[1]?.traceId, /^[0-9a-f]{32}$/, 'a trace started at the proxy');
  t.not(records[1]?.traceId, TRACE_ID);
});
