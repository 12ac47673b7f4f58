import { useTracer } from './hop-span.js';

export { SpanKind, startHop, tracingOn, type HopSpan } from './hop-span.js';

// How to flush and stop the SDK started by startTracing; undefined while tracing is off.
let running: { flush: () => Promise<void>; shutdown: () => Promise<void> } | undefined;

/** True when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT asks for spans (and OTEL_SDK_DISABLED does not forbid them). */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Starts exporting spans over OTLP/HTTP (JSON) when the environment names an endpoint, as
 * `serviceName` (OTEL_SERVICE_NAME wins); with none, loads nothing (the SDK and the exporter are
 * imported only here) and every hop passes the incoming trace context on. Once per process;
 * returns whether tracing is on.
 * @example await startTracing('mesh-proxy')
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (running) return true;
  if (!tracingWanted(env)) return false;
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  if (running) return true;
  // The exporter reads the endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables itself.
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  running = { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
  useTracer(provider.getTracer('mm-mesh'));
  return true;
}

/** Exports the spans still in the batch now (tests, an instance that stops while its process goes on). */
export async function flushTracing(): Promise<void> {
  await running?.flush().catch(() => undefined);
}

/** Exports the spans still in the batch and stops tracing (graceful shutdown); nothing when tracing is off. */
export async function stopTracing(): Promise<void> {
  const stopping = running;
  running = undefined;
  useTracer(undefined);
  await stopping?.shutdown().catch(() => undefined);
}
