import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/client';
import { CLIENT_INFO, checkAnswer, type Driver, type ToolCall } from './driver.js';
import { isEventStream } from '../helpers/media-type.js';

export interface HttpDriverOptions {
  /** Keep-alive sockets in the pool; one per call in flight. */
  connections: number;
  timeoutMs?: number;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One initialized MCP session over Streamable HTTP, for requests the caller builds. */
export interface McpSession {
  /** Milliseconds the MCP initialize handshake took (initialize request + initialized notification). */
  readonly initializeMs: number;
  /**
   * Sends `{"jsonrpc":"2.0","id":…,"method":method,"params":paramsJson}` and resolves with the
   * JSON-RPC answer of that id (from a JSON or an SSE body); rejects on a non-200 status.
   * `paramsJson` is already serialized, so a repeated call costs no JSON.stringify.
   */
  request(method: string, paramsJson: string): Promise<unknown>;
  /** 'json' or 'sse': how the last answer came (the content type the server chose). */
  readonly lastAnswerType: string | undefined;
  close(): Promise<void>;
}

/**
 * A lean Streamable HTTP client: keep-alive sockets (undici Pool), one initialized MCP session,
 * pre-built JSON-RPC bodies. Answers are read whether the server sends JSON or SSE.
 */
export async function openMcpSession(url: string, options: HttpDriverOptions): Promise<McpSession> {
  const target = new URL(url);
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(target.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const path = target.pathname + target.search;
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
  };

  const post = async (body: string): Promise<Answer> => {
    const response = await pool.request({ path, method: 'POST', headers, body });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  };

  let nextId = 1;
  try {
    const started = performance.now();
    const init = await post(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO } }));
    if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status}: ${init.text.slice(0, 300)}`);
    const session = init.headers['mcp-session-id'];
    if (typeof session !== 'string') throw new Error('initialize: no mcp-session-id header in the answer');
    const initAnswer = parseAnswer(init, 1, 'initialize') as { result?: { protocolVersion?: unknown } };
    checkAnswer(initAnswer, `${url} initialize`);
    const version = initAnswer.result?.protocolVersion;
    headers['mcp-session-id'] = session;
    headers['mcp-protocol-version'] = typeof version === 'string' ? version : LATEST_PROTOCOL_VERSION;
    const initialized = await post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    if (initialized.status !== 202 && initialized.status !== 200) throw new Error(`notifications/initialized: HTTP ${initialized.status}: ${initialized.text.slice(0, 300)}`);
    const initializeMs = performance.now() - started;

    let lastAnswerType: string | undefined;
    return {
      initializeMs,
      get lastAnswerType() {
        return lastAnswerType;
      },
      async request(method, paramsJson) {
        const id = nextId++;
        const answer = await post(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${paramsJson}}`);
        if (answer.status !== 200) throw new Error(`${url} ${method}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
        lastAnswerType = isEventStream(answer.headers['content-type']) ? 'sse' : 'json';
        return parseAnswer(answer, id, method);
      },
      async close() {
        try {
          const response = await pool.request({ path, method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': headers['mcp-protocol-version'] ?? '' } });
          await response.body.dump();
        } catch {
          // The session is gone with the process anyway.
        }
        await pool.close();
      },
    };
  } catch (error) {
    await pool.destroy();
    throw error;
  }
}

/** The lean load generator: `toolCall` as a tools/call on one session, answers checked. */
export async function openHttpDriver(url: string, toolCall: ToolCall, options: HttpDriverOptions): Promise<Driver> {
  const session = await openMcpSession(url, options);
  const params = JSON.stringify({ name: toolCall.name, arguments: toolCall.arguments });
  const where = `${url} tools/call ${toolCall.name}`;
  return {
    initializeMs: session.initializeMs,
    get answerType() {
      return session.lastAnswerType;
    },
    async call() {
      checkAnswer(await session.request('tools/call', params), where);
    },
    close: () => session.close(),
  };
}

/** The JSON-RPC message with `id` from a JSON body or from the `data:` lines of an SSE body. */
export function parseAnswer(answer: Answer, id: number, what: string): unknown {
  if (!isEventStream(answer.headers['content-type'])) return JSON.parse(answer.text);
  for (const line of answer.text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const message = JSON.parse(line.slice(5)) as { id?: unknown };
    if (message.id === id) return message;
  }
  throw new Error(`${what}: SSE answer without a message for id ${id}: ${answer.text.slice(0, 300)}`);
}
