import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { CLIENT_INFO, checkAnswer, type Driver, type ToolCall } from './driver.js';

/** The MCP SDK's own client end to end (Client + StreamableHTTPClientTransport, callTool). */
export async function openSdkDriver(url: string, toolCall: ToolCall, timeoutMs = 30_000): Promise<Driver> {
  const client = new Client(CLIENT_INFO);
  // The transport hands one AbortSignal to every fetch, and Node's fetch holds a listener on it until
  // the response is garbage-collected: thousands of calls trip MaxListenersExceededWarning. Silence
  // that warning only; requests are unchanged.
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: (input, init) => {
      if (init?.signal) setMaxListeners(0, init.signal);
      return fetch(input, init);
    },
  });
  const started = performance.now();
  await client.connect(transport, { timeout: timeoutMs });
  const initializeMs = performance.now() - started;
  const params = { name: toolCall.name, arguments: toolCall.arguments };
  return {
    initializeMs,
    async call() {
      const result = await client.callTool(params, { timeout: timeoutMs });
      checkAnswer({ result }, `${url} SDK callTool`);
    },
    async close() {
      try {
        await transport.terminateSession();
      } catch {
        // Best effort: the process is stopped next anyway.
      }
      await client.close();
    },
  };
}
