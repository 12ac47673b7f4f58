import { Pool } from 'undici';
import { CLIENT_INFO, checkAnswer, type Driver, type ToolCall } from './driver.js';
import { parseAnswer, type HttpDriverOptions } from './http-driver.js';

const MODERN = '2026-07-28';

/**
 * The lean load generator for MCP 2026-07-28: no initialize and no session; every tools/call
 * carries the `_meta` envelope and the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name).
 */
export async function openModernDriver(url: string, toolCall: ToolCall, options: HttpDriverOptions): Promise<Driver> {
  const target = new URL(url);
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeout, bodyTimeout: timeout });
  const path = target.pathname + target.search;
  const headers = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': MODERN,
    'mcp-method': 'tools/call',
    'mcp-name': toolCall.name,
  };
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const params = JSON.stringify({ name: toolCall.name, arguments: toolCall.arguments, _meta: meta });
  const where = `${url} tools/call ${toolCall.name} (2026-07-28)`;
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
      const answer = { status: response.statusCode, headers: response.headers, text: await response.body.text() };
      if (answer.status !== 200) throw new Error(`${where}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
      const message = parseAnswer(answer, id, where) as { result?: { resultType?: unknown } };
      if (message.result && message.result.resultType !== 'complete') throw new Error(`${where}: resultType ${String(message.result.resultType)}, expected "complete"`);
      checkAnswer(message, where);
      answerType = answer.headers['content-type']?.toString().split(';')[0];
    },
    close: () => pool.close(),
  };
}
