import { performance } from 'node:perf_hooks';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/client';
import { exitedError, type Tracked } from './child-processes.js';
import { CLIENT_INFO, checkAnswer, type Driver, type ToolCall } from './driver.js';

interface Pending {
  resolve: (message: unknown) => void;
  reject: (error: Error) => void;
  sentAt: number;
}

/**
 * A lean MCP client over a child's stdin/stdout: newline-delimited JSON-RPC, answers matched by id.
 * No SDK on this side, so the measurement is the server's cost, not the client's.
 */
export async function openStdioDriver(proc: Tracked, toolCall: ToolCall, timeoutMs = 30_000): Promise<Driver> {
  const { stdin, stdout } = proc.child;
  if (!stdin || !stdout) throw new Error(`${proc.label}: stdio driver needs piped stdin and stdout`);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let buffer = '';
  let failure: Error | undefined;

  const failAll = (error: Error) => {
    failure ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line.length === 0 || line.charCodeAt(0) !== 123 /* { */) continue;
      let message: { id?: unknown };
      try {
        message = JSON.parse(line) as { id?: unknown };
      } catch {
        continue;
      }
      if (typeof message.id !== 'number' || 'method' in message) continue; // notifications and server requests
      const p = pending.get(message.id);
      if (p) {
        pending.delete(message.id);
        p.resolve(message);
      }
    }
  });
  proc.child.once('exit', () => failAll(exitedError(proc)));
  // Calls never hang: a coarse watchdog instead of a timer per call.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const p of pending.values()) {
      if (now - p.sentAt > timeoutMs) {
        failAll(new Error(`${proc.label}: no answer within ${timeoutMs} ms`));
        return;
      }
    }
  }, 1_000);
  watchdog.unref();

  const request = (method: string, params: unknown): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, sentAt: performance.now() });
      stdin.write(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${JSON.stringify(params)}}\n`);
    });
  };

  const started = performance.now();
  const init = await request('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO });
  checkAnswer(init, `${proc.label} initialize`);
  stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  const initializeMs = performance.now() - started;

  const params = JSON.stringify({ name: toolCall.name, arguments: toolCall.arguments });
  return {
    initializeMs,
    async call() {
      if (failure) throw failure;
      const id = nextId++;
      const answer = await new Promise<unknown>((resolve, reject) => {
        pending.set(id, { resolve, reject, sentAt: performance.now() });
        stdin.write(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}\n`);
      });
      checkAnswer(answer, proc.label);
    },
    async close() {
      clearInterval(watchdog);
      failAll(new Error('driver closed'));
    },
  };
}
