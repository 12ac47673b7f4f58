import { MeshError } from '../errors.js';
import { certificateHint } from '../http/tls-trust.js';
import { errorFromResponse } from './error-from-response.js';
import { CallTimeout, MeshClientError, ProxyUnreachable, type ClientErrorContext } from './errors.js';

/** One HTTP request to the proxy's /v1 API, as MeshClient sends it. */
export interface ProxyRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Aborts the request with CallTimeout after this many ms. */
  timeoutMs: number;
  /** Any of these aborting cancels the request with CALL_CANCELLED (client closed, caller gave up). */
  signals?: (AbortSignal | undefined)[];
  /** Service and tool the request is about, for error context. */
  context?: Omit<ClientErrorContext, 'proxy'>;
}

export interface ProxyTransport {
  proxy: string;
  fetch: typeof fetch;
  token?: string | undefined;
}

/**
 * Sends one request and returns the JSON object of a 2xx answer (the caller checks it against its
 * wire-contract schema); any failure is a typed MeshError naming the proxy (ProxyUnreachable, CallTimeout, the proxy's own error...).
 * @example const { services } = await proxyRequest(transport, { method: 'GET', path: '/v1/services', timeoutMs: 5000 })
 */
export async function proxyRequest(transport: ProxyTransport, request: ProxyRequest): Promise<unknown> {
  const context: ClientErrorContext = { ...request.context, proxy: transport.proxy };
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (transport.token) headers.authorization = `Bearer ${transport.token}`;
  const what = `${request.method} ${request.path}`;
  // One controller per request, listeners removed after: a long-lived client signal never
  // accumulates dependents the way AbortSignal.any() would.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const signals = (request.signals ?? []).filter((signal): signal is AbortSignal => signal !== undefined);
  const cancelled = signals.find((signal) => signal.aborted);
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
  let response: Response;
  let text: string;
  try {
    if (cancelled) throw cancelled.reason;
    response = await transport.fetch(`${transport.proxy}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    throw requestFailure(error, { timedOut, cancelled: cancelled ?? signals.find((signal) => signal.aborted), what, timeoutMs: request.timeoutMs, context });
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener('abort', onAbort);
  }
  const body = parse(text);
  if (!response.ok) throw errorFromResponse(response.status, body, context);
  if (typeof body !== 'object' || body === null) {
    throw new MeshClientError(
      'INTERNAL',
      `the proxy at ${transport.proxy} answered ${what} with HTTP ${response.status} and no JSON object: ${text.slice(0, 200) || '(empty body)'}; is it a mesh-proxy?`,
      {
        context: { ...context, httpStatus: response.status },
      },
    );
  }
  return body;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.trim() === '' ? undefined : text;
  }
}

interface FailureFacts {
  timedOut: boolean;
  cancelled: AbortSignal | undefined;
  what: string;
  timeoutMs: number;
  context: ClientErrorContext;
}

// fetch rejects with the abort reason when aborted, and with TypeError("fetch failed") when the
// connection fails; the cause of the latter carries the system error code.
function requestFailure(error: unknown, facts: FailureFacts): MeshError {
  const { context } = facts;
  const target = context.service ? `${context.service}${context.tool ? `.${context.tool}` : ''}` : facts.what;
  if (facts.timedOut) {
    return new CallTimeout(`${target} did not answer within ${facts.timeoutMs} ms (no answer from the proxy at ${context.proxy})`, {
      cause: error,
      context: { ...context, timeoutMs: facts.timeoutMs },
    });
  }
  if (facts.cancelled) {
    const reason: unknown = facts.cancelled.reason;
    if (reason instanceof MeshError) return reason;
    return new MeshClientError('CALL_CANCELLED', `${target} was cancelled by the caller`, { cause: reason ?? error, context });
  }
  const code = systemCode(error);
  const certificate = certificateHint(code);
  if (certificate) return new ProxyUnreachable(`cannot reach the mesh-proxy at ${context.proxy}: ${certificate}`, { cause: error, context: { ...context, systemCode: code } });
  return new ProxyUnreachable(
    `cannot reach the mesh-proxy at ${context.proxy}${code ? ` (${code})` : ''}: start one with \`mesh-proxy\` (or \`npm start\` in the mm-mesh folder), or point MESH_PROXY_URL / the \`proxy\` option at a running one`,
    { cause: error, context: code ? { ...context, systemCode: code } : context },
  );
}

/** The system error code of a failed fetch (ECONNREFUSED, a certificate code...), looking through its causes. */
export function systemCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (current as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested[0] instanceof Error) {
      current = nested[0];
      continue;
    }
    current = current.cause;
  }
  return undefined;
}
