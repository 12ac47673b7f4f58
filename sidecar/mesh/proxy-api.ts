import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { z } from 'zod';
import { errorFromResponse, ProxyUnreachable } from '../../src/client/index.js';
import { parseAnswer } from '../../src/client/answer.js';
import { proxyRequest } from '../../src/client/proxy-request.js';
import { MeshError } from '../../src/errors.js';
import { locateProxy, type ProxyOptions } from './common.js';
import { CliError, describeError } from './errors.js';
import type { ProxyLocation } from './proxy-url.js';

const LOOKUP_TIMEOUT_MS = 10_000;

/** The /v1 reads the observing commands need (status, watch, audit), with the proxy token (MESH_TOKEN). */
export interface ProxyApi {
  location: ProxyLocation;
  /** GET a /v1 path and check the answer against its wire-contract schema. */
  get<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>>;
  /**
   * Reads a Server-Sent Events stream (eventsource-parser) until `signal` aborts (resolves) or the
   * proxy ends it (throws, naming the proxy).
   */
  stream(path: string, onEvent: (event: EventSourceMessage) => void, signal: AbortSignal): Promise<void>;
}

/**
 * Runs `work` against the located proxy; errors come back as one CLI message naming the proxy URL and its origin.
 * @example await withProxyApi(options, (api) => api.get(AuditAnswerSchema, '/v1/audit'))
 */
export async function withProxyApi<T>(options: ProxyOptions, work: (api: ProxyApi) => Promise<T>): Promise<T> {
  const { location } = await locateProxy(options);
  const token = process.env.MESH_TOKEN || undefined;
  const transport = { proxy: location.url, fetch: globalThis.fetch, token };
  const api: ProxyApi = {
    location,
    async get(schema, path) {
      const body = await proxyRequest(transport, { method: 'GET', path, timeoutMs: LOOKUP_TIMEOUT_MS });
      return parseAnswer(schema, body, `GET ${path}`, { proxy: location.url });
    },
    stream: (path, onEvent, signal) => readStream(location.url, token, path, onEvent, signal),
  };
  try {
    return await work(api);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof MeshError) throw new CliError(describeError(error, location));
    throw error;
  }
}

// One long GET whose body is parsed as SSE; Ctrl-C (the signal) ends it quietly.
async function readStream(proxy: string, token: string | undefined, path: string, onEvent: (event: EventSourceMessage) => void, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${proxy}${path}`, { headers, signal });
  } catch (error) {
    if (signal.aborted) return;
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    throw new ProxyUnreachable(`cannot reach the mesh-proxy at ${proxy}`, { cause: error, context: { proxy, ...(typeof code === 'string' ? { systemCode: code } : {}) } });
  }
  if (!response.ok) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: errorFromResponse names the status
    }
    throw errorFromResponse(response.status, body, { proxy });
  }
  const parser = createParser({ onEvent });
  try {
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) parser.feed(chunk);
  } catch (error) {
    if (signal.aborted) return;
    throw new CliError(`the event stream of the mesh-proxy at ${proxy} broke: ${(error as Error).message}`);
  }
  if (signal.aborted) return;
  throw new CliError(`the mesh-proxy at ${proxy} ended the event stream (did it stop?)`);
}

/** An AbortSignal that Ctrl-C (SIGINT) or SIGTERM aborts, so a following command ends cleanly with exit 0. */
export function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  controller.signal.addEventListener('abort', () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  });
  return controller.signal;
}
