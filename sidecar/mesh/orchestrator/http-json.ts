import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** An answer of requestJson(): status, headers, and the body parsed as JSON (undefined when it is not). */
export interface JsonAnswer {
  status: number;
  ok: boolean;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

// The supervisor of `mesh up` polls the proxy, the sidecars and the host for as long as it runs.
// Measured: Node's global fetch() costs about 21 MiB of RSS on its first use (it loads its bundled
// undici and the web streams), node:http under 2 MiB; so the supervisor's own requests use node:http.
/**
 * One HTTP(S) request with a deadline; rejects on a network error or the deadline.
 * @example const { status, body } = await requestJson('http://127.0.0.1:6001/v1/services', { timeoutMs: 2_000 })
 */
export function requestJson(url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs: number }): Promise<JsonAnswer> {
  const target = new URL(url);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...options.headers,
    ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: options.method ?? 'GET', headers, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(deadline);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, headers: res.headers, body });
      });
    });
    // The whole exchange, not only the socket's idle time, has the deadline.
    const deadline = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)));
    req.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    req.end(payload);
  });
}
