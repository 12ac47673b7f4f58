import type { Test } from 'tap';
import { MIMEType } from 'node:util';
import { createParser } from 'eventsource-parser';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export const MODERN = '2026-07-28';

/** A v2 SDK client that negotiates its era (`auto`: 2026-07-28 when the server offers it), closed after the test. */
export async function connectModern(t: Test, url: string, options: ConstructorParameters<typeof Client>[1] = {}, name = 'modern-client'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { versionNegotiation: { mode: 'auto' }, ...options });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.teardown(() => client.close());
  return client;
}

/** The `_meta` envelope every 2026-07-28 request carries. */
export function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
    ...extra,
  };
}

/** POSTs one hand-built 2026-07-28 request (headers derived from the body unless overridden); returns status, content type and parsed body. */
export async function postModern(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}, id: number | string = 1) {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...envelope(), ...(params._meta as object | undefined) } } }),
  });
  const text = await response.text();
  const type = response.headers.get('content-type');
  const essence = type === null ? undefined : new MIMEType(type).essence;
  const messages = essence === 'text/event-stream' ? sseMessages(text) : essence === 'application/json' ? [JSON.parse(text)] : [];
  // body: the JSON-RPC answer (the last message of a stream); messages: everything the response carried.
  return { status: response.status, type: essence, body: messages[messages.length - 1] ?? text, messages };
}

/** The JSON messages of an SSE body. */
export function sseMessages(text: string): any[] {
  const messages: any[] = [];
  const parser = createParser({ onEvent: (event) => event.data.length > 0 && messages.push(JSON.parse(event.data)) });
  parser.feed(text);
  return messages;
}
