import { randomFillSync } from 'node:crypto';
import { defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context as it travels between hops: the `traceparent` and `tracestate` keys of a
 * request's `_meta` (SEP-414, MCP 2026-07-28) or of HTTP headers of the same names.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Reads a header of a request (node's lower-cased headers, Hono's c.req.header, a Headers). */
export type HeaderLookup = (name: string) => string | string[] | undefined | null;

const propagator = new W3CTraceContextPropagator();

// The keys SEP-414 reserves in `_meta`; baggage is left where it is (passed through untouched).
const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

/**
 * The trace context of an incoming request: its `_meta` keys, else its headers; undefined when
 * neither carries a traceparent. Values are taken as they are (checked when parsed).
 * @example carrierFrom({ traceparent: '00-…-…-01' }) // { traceparent: '00-…-…-01' }
 */
export function carrierFrom(meta: unknown, header?: HeaderLookup): TraceCarrier | undefined {
  const keys = meta as Record<string, unknown> | undefined | null;
  const parent = keys?.[TRACEPARENT];
  if (typeof parent === 'string') {
    const state = keys?.[TRACESTATE];
    return typeof state === 'string' ? { traceparent: parent, tracestate: state } : { traceparent: parent };
  }
  if (!header) return undefined;
  const fromHeader = first(header(TRACEPARENT));
  if (fromHeader === undefined) return undefined;
  const state = first(header(TRACESTATE));
  return state === undefined ? { traceparent: fromHeader } : { traceparent: fromHeader, tracestate: state };
}

function first(value: string | string[] | undefined | null): string | undefined {
  if (Array.isArray(value)) return value[0];
  return value ?? undefined;
}

/** The OTel context whose remote parent is `carrier` (the root context when it holds no valid traceparent). */
export function contextOf(carrier: TraceCarrier | undefined): Context {
  return carrier ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
}

/** The span context `carrier` names, or undefined when its traceparent is missing or not valid W3C. */
export function spanContextOf(carrier: TraceCarrier | undefined): SpanContext | undefined {
  const span = trace.getSpanContext(contextOf(carrier));
  return span && isSpanContextValid(span) ? span : undefined;
}

/** The `traceparent`/`tracestate` pair naming `span` as the parent of the next hop. */
export function carrierOf(span: SpanContext): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier;
}

/** A new trace (random ids, sampled), for a request that came without one and is not recorded here. */
export function newTraceCarrier(): TraceCarrier {
  return carrierOf(newSpanContext());
}

/** The span context of a new trace: random ids, sampled. */
export function newSpanContext(): SpanContext {
  const ids = randomIds();
  return { traceId: ids.slice(0, 32), spanId: ids.slice(32), traceFlags: TraceFlags.SAMPLED };
}

// Random bytes for 256 trace and span ids at a time: one getrandom call per 256 new traces, not per call
// (as node's randomUUID keeps a cache), since a route without incoming context starts one per call.
const ID_BYTES = 24;
let pool = Buffer.alloc(0);
let offset = 0;

function randomIds(): string {
  if (offset >= pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(ID_BYTES * 256));
    offset = 0;
  }
  offset += ID_BYTES;
  return pool.toString('hex', offset - ID_BYTES, offset);
}

/** The trace id `carrier` names (32 hex digits), or undefined. */
export function traceIdOf(carrier: TraceCarrier | undefined): string | undefined {
  return spanContextOf(carrier)?.traceId;
}

/** `meta` with `carrier`'s keys set (a new object; `meta` is not changed). */
export function withTraceMeta<T extends Record<string, unknown>>(meta: T, carrier: TraceCarrier | undefined): T {
  if (!carrier?.traceparent) return meta;
  return carrier.tracestate === undefined ? { ...meta, traceparent: carrier.traceparent } : { ...meta, traceparent: carrier.traceparent, tracestate: carrier.tracestate };
}

/** A request's `_meta` with the trace context of its headers added when `_meta` carries none (the same object otherwise). */
export function metaWithHeaderTrace(meta: unknown, header: HeaderLookup): unknown {
  if ((meta as Record<string, unknown> | undefined | null)?.[TRACEPARENT] !== undefined) return meta;
  const carrier = carrierFrom(undefined, header);
  if (!carrier) return meta;
  return withTraceMeta(typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {}, carrier);
}
