import { SpanStatusCode, type Attributes, type Span, type SpanKind, type Tracer } from '@opentelemetry/api';
import { carrierOf, contextOf, newSpanContext, traceIdOf, type TraceCarrier } from './trace-context.js';

export { SpanKind } from '@opentelemetry/api';

/** One hop's span, or with tracing off the trace context passed on unchanged. */
export interface HopSpan {
  /** What the next hop gets as `traceparent`/`tracestate` (this span's, or the incoming one with tracing off). */
  readonly carrier: TraceCarrier | undefined;
  /** The trace this hop belongs to (32 hex digits), when there is one. */
  readonly traceId: string | undefined;
  /** Ends the span; an error marks it failed. Nothing with tracing off. */
  end(error?: unknown): void;
}

// The tracer of the SDK started by startTracing (tracing.ts); undefined while tracing is off.
let tracer: Tracer | undefined;

/** Sets (or with undefined, clears) the tracer hops record their spans with; startTracing and stopTracing call it. */
export function useTracer(next: Tracer | undefined): void {
  tracer = next;
}

/** True when spans are recorded and exported (startTracing found an endpoint). */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

/**
 * Starts the span of one hop as a child of `parent` (a new trace when there is none). With
 * tracing off: no span, the parent's context passed on as it came; when `root` is set and there
 * is none, a new trace id, so every routed call has one.
 */
export function startHop(name: string, kind: SpanKind, parent: TraceCarrier | undefined, attributes?: Attributes, root = false): HopSpan {
  if (!tracer) {
    const traceId = traceIdOf(parent);
    if (traceId !== undefined || !root) return { carrier: parent, traceId, end: noop };
    const started = newSpanContext();
    return { carrier: carrierOf(started), traceId: started.traceId, end: noop };
  }
  const span = tracer.startSpan(name, { kind, ...(attributes && { attributes }) }, contextOf(parent));
  const context = span.spanContext();
  return { carrier: carrierOf(context), traceId: context.traceId, end: (error) => endSpan(span, error) };
}

const noop = () => undefined;

function endSpan(span: Span, error: unknown): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
