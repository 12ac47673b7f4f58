/**
 * The file-polling pattern MM replaces, done as projects do it today: a worker watches one folder
 * by polling every 100 ms for request.json, runs the requested tool on its stdio MCP server (one
 * session kept open for its whole life, through the MCP SDK client), and writes response.json
 * atomically (temp file + rename). Spawned by file-polling.ts, never imported.
 *
 *   node dist/test/bench/file-polling-worker.js DIR -- python3 examples/fs_server.py --root examples/texts
 *
 * Files in DIR: request.json {id, tool, arguments} → response.json {id, result | error, toolMs};
 * worker.ready appears once the MCP session is initialized (the bench waits for it).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import { POLL_MS, take, writeAtomic } from './polling-files.js';

interface Request {
  id: string;
  tool: string;
  arguments: Record<string, unknown>;
}

async function main(): Promise<void> {
  const [dir, separator, command, ...args] = process.argv.slice(2);
  if (!dir || separator !== '--' || !command) throw new Error('usage: file-polling-worker.js DIR -- COMMAND [ARGS...]');
  const client = new Client({ name: 'file-polling-worker', version: '1.0.0' });
  const transport = new StdioClientTransport({ command, args, stderr: 'inherit' });
  await client.connect(transport);
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stopping = true;
      void client.close().finally(() => process.exit(0));
    });
  }
  writeAtomic(join(dir, 'worker.ready'), JSON.stringify({ pid: process.pid }));
  const requestFile = join(dir, 'request.json');
  const responseFile = join(dir, 'response.json');
  while (!stopping) {
    await delay(POLL_MS);
    const text = take(requestFile);
    if (text === undefined) continue;
    let id = '';
    try {
      const request = JSON.parse(text) as Request;
      id = request.id;
      const t0 = performance.now();
      const result = await client.callTool({ name: request.tool, arguments: request.arguments });
      const toolMs = performance.now() - t0;
      writeAtomic(responseFile, JSON.stringify({ id, result, toolMs }));
    } catch (error) {
      writeAtomic(responseFile, JSON.stringify({ id, error: error instanceof Error ? error.message : String(error) }));
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`file-polling-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
