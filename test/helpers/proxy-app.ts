import type { Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { createProxyApp } from '../../proxy/app.js';
import { MeshCore } from '../../proxy/core.js';
import { MeshEndpoint } from '../../proxy/mcp/endpoint.js';
import { createProxyMetrics } from '../../proxy/metrics.js';
import { Registry } from '../../proxy/registry/registry.js';
import { isEventStream } from './media-type.js';

// The proxy's HTTP surface in-process (app.request(), no sockets): a real registry in memory with
// a hand-driven clock, a real core, endpoint and metrics. Health tests move the clock, never sleep.
export const START = 1_700_000_000_000;
export const MAX_BODY = 64 * 1024;

export async function build(t: Test) {
  const clock = { now: START };
  const registry = await Registry.open({ now: () => clock.now });
  const metrics = createProxyMetrics({ instancesByStatus: () => registry.countByStatus() });
  const core = new MeshCore({ registry, deadlineMs: 2_000, observe: (record) => metrics.observeCall(record) });
  const endpoint = new MeshEndpoint(core, silentLogger, '0.0.0-test');
  const app = createProxyApp({ core, endpoint, metrics, maxBodyBytes: MAX_BODY, startedAt: START });
  t.teardown(async () => {
    await endpoint.close();
    await core.router.close();
    await registry.close();
  });
  const request = async (path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: any; headers: Headers }> => {
    const { json, ...rest } = init;
    const headers = { host: '127.0.0.1:6001', 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) };
    const response = await app.request(path, { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: response.status, body, headers: response.headers };
  };
  return { app, clock, registry, core, endpoint, request };
}

// Nothing listens on port 9 (discard) here: instances registered with it are metadata only.
export function registration(id: string, name = 'fs', extra: Record<string, unknown> = {}) {
  return {
    id,
    name,
    url: `http://127.0.0.1:9/${id}/mcp`,
    host: '127.0.0.1',
    port: 9,
    pid: 4242,
    tags: ['python'],
    tools: [{ name: 'read_text', description: 'Read a text file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }],
    toolsHash: 'h1',
    version: '1.0.0',
    kind: 'sidecar',
    ...extra,
  };
}

// The header that carries an instance's lease.
export const leased = (lease: string) => ({ 'x-mesh-lease': lease });

// Reads SSE events from a streaming Response body until `count` events (besides comments) arrived.
export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events: { event: string; data: any }[] = [];
  const next = async (): Promise<{ event: string; data: any }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (!data) continue;
        const parsed = { event, data: JSON.parse(data) };
        events.push(parsed);
        return parsed;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended; events so far: ${JSON.stringify(events)}`);
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return { next, cancel: () => reader.cancel() };
}

// A minimal MCP client over app.request: JSON-RPC in, the SSE or JSON answer parsed out.
export function mcpClient(app: ReturnType<typeof createProxyApp>) {
  let session: string | undefined;
  let nextId = 1;
  const post = async (message: Record<string, unknown>) => {
    const headers: Record<string, string> = {
      host: '127.0.0.1:6001',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    };
    if (session) headers['mcp-session-id'] = session;
    const response = await app.request('/mcp', { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', ...message }) });
    session ??= response.headers.get('mcp-session-id') ?? undefined;
    const text = await response.text();
    if (!text) return { status: response.status, message: undefined };
    const json = isEventStream(response.headers.get('content-type'))
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => JSON.parse(l.slice(6)))
          .find((m) => 'id' in m)
      : JSON.parse(text);
    return { status: response.status, message: json };
  };
  return {
    get session() {
      return session;
    },
    async initialize() {
      const init = await post({ id: nextId++, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'app-test', version: '1.0.0' } } });
      await post({ method: 'notifications/initialized' });
      return init;
    },
    async request(method: string, params: Record<string, unknown> = {}) {
      const { message } = await post({ id: nextId++, method, params });
      return message as { result?: any; error?: { code: number; message: string; data?: any } };
    },
  };
}
