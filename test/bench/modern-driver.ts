import { Pool } from 'undici';
import { CLIENT_INFO, checkAnswer, type Driver, type ToolCall } from './driver.js';
import { parseAnswer } from './http-driver.js';

export const MODERN_REVISION = '2026-07-28';

export interface ModernDriverOptions {
  /** Keep-alive sockets in the pool; one per call in flight. */
  connections: number;
  /**
   * Ask for log messages at this level (`io.modelcontextprotocol/logLevel`): the sidecar then serves
   * the call through the SDK's per-request handler instead of its lean path.
   */
  logLevel?: string;
  timeoutMs?: number;
}

/**
 * A lean 2026-07-28 load generator: no handshake, no session; each tools/call carries the `_meta`
 * envelope and the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name), pre-built.
 */
export async function openModernDriver(url: string, toolCall: ToolCall, options: ModernDriverOptions): Promise<Driver> {
  const target = new URL(url);
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeout, bodyTimeout: timeout });
  const path = target.pathname + target.search;
  const headers = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': MODERN_REVISION,
    'mcp-method': 'tools/call',
    'mcp-name': toolCall.name,
  };
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
    ...(options.logLevel ? { 'io.modelcontextprotocol/logLevel': options.logLevel } : {}),
  };
  const params = JSON.stringify({ name: toolCall.name, arguments: toolCall.arguments, _meta: meta });
  const where = `${url} tools/call ${toolCall.name} (${MODERN_REVISION})`;
  let nextId = 1;
  let answerType: string | undefined;
  return {
    initializeMs: 0,
    get answerType() {
      return answerType;
    },
    async call() {
      const id = nextId++;
      const response = await pool.request({ path, method: 'POST', headers, body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}` });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${where}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
      const answer = { status: response.statusCode, headers: response.headers, text };
      const message = parseAnswer(answer, id, where) as { result?: { resultType?: unknown } };
      answerType = text.startsWith('{') ? 'json' : 'sse';
      checkAnswer(message, where);
      if (message.result?.resultType !== 'complete') throw new Error(`${where}: result without resultType "complete": ${text.slice(0, 300)}`);
    },
    close: () => pool.close(),
  };
}
