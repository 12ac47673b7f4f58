import type { JSONRPCRequest } from '@modelcontextprotocol/server';
import { carrierFrom, withTraceMeta } from '../tracing/trace-context.js';
import { SpanKind, startHop, tracingOn, type HopSpan } from '../tracing/hop-span.js';

/** The spans of one request forwarded to the child: the sidecar's forward, and the child call under it. */
export interface ChildCallSpans {
  forward: HopSpan;
  child: HopSpan;
}

/**
 * With tracing on, starts the spans of a client request the bridge forwards (`out`: the request as
 * the child will get it) and makes the child call span the parent named in its `_meta`. With tracing
 * off, or for a request that came with no trace context (the bridge's own), nothing: the client's
 * `traceparent`/`tracestate` reach the child in `_meta` untouched.
 */
export function traceChildCall(service: string, out: JSONRPCRequest): ChildCallSpans | undefined {
  if (!tracingOn() || !out.params) return undefined;
  const parent = carrierFrom(out.params._meta);
  if (!parent) return undefined;
  const attributes = { 'mesh.service': service, 'rpc.method': out.method, ...(typeof out.params.name === 'string' && { 'mesh.tool': out.params.name }) };
  const forward = startHop('instance.forward', SpanKind.SERVER, parent, attributes);
  const child = startHop('instance.child', SpanKind.CLIENT, forward.carrier, attributes);
  out.params = { ...out.params, _meta: withTraceMeta(out.params._meta ?? {}, child.carrier) };
  return { forward, child };
}

/** Ends both spans of a forwarded request (an error, a JSON-RPC error object included, marks them failed). */
export function endChildCall(spans: ChildCallSpans | undefined, error?: unknown): void {
  if (!spans) return;
  const failure = error !== undefined && typeof error === 'object' && error !== null && !(error instanceof Error) ? JSON.stringify(error) : error;
  spans.child.end(failure);
  spans.forward.end(failure);
}
