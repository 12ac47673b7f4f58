/**
 * The app side of the file-polling baseline: start file-polling-worker.js on a fresh folder, then
 * per call write request.json (atomically) and poll every 100 ms for response.json, read it and
 * delete it. One request at a time, as the pattern allows.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { CallToolResult } from '../../src/client/index.js';
import { exitedError, spawnTracked, type Tracked } from './child-processes.js';
import { root } from './paths.js';
import { POLL_MS, take, writeAtomic } from './polling-files.js';
import { waitReady } from './wait-ready.js';

const worker = join(root, 'dist/test/bench/file-polling-worker.js');

/** One answer of the worker: the tool result, and how long the tool took inside the worker (its stdio round trip). */
export interface PolledAnswer {
  result: CallToolResult;
  toolMs: number;
}

export interface FilePolling {
  readonly proc: Tracked;
  /** Spawn until worker.ready appeared (its MCP session to the server is initialized). */
  readonly readyMs: number;
  call(tool: string, args: Record<string, unknown>): Promise<PolledAnswer>;
  /** Stops the worker (and its server) and removes the folder. */
  stop(): Promise<void>;
}

/** Starts the worker over `server` (argv of a stdio MCP server) on a fresh temporary folder. */
export async function startFilePolling(server: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<FilePolling> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-polling-'));
  const proc = spawnTracked('file-polling-worker', process.execPath, [worker, dir, '--', ...server], { env });
  const stop = () => proc.stop().finally(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await waitReady(proc, 'worker.ready', async () => existsSync(join(dir, 'worker.ready')), timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  const readyMs = performance.now() - proc.spawnedAt;
  const requestFile = join(dir, 'request.json');
  const responseFile = join(dir, 'response.json');

  // Write the request, then look for the answer every POLL_MS until it is there.
  const call = async (tool: string, args: Record<string, unknown>): Promise<PolledAnswer> => {
    const id = randomUUID();
    writeAtomic(requestFile, JSON.stringify({ id, tool, arguments: args }));
    const end = performance.now() + timeoutMs;
    for (;;) {
      await delay(POLL_MS);
      const text = take(responseFile);
      if (text !== undefined) {
        const answer = JSON.parse(text) as { id?: string; result?: CallToolResult; toolMs?: number; error?: string };
        if (answer.id !== id) throw new Error(`response.json answers request ${answer.id}, expected ${id}`);
        if (answer.error !== undefined) throw new Error(`file-polling worker: ${tool}: ${answer.error}`);
        if (!answer.result || answer.result.isError) throw new Error(`file-polling worker: ${tool}: tool error ${JSON.stringify(answer.result?.content).slice(0, 300)}`);
        return { result: answer.result, toolMs: answer.toolMs ?? Number.NaN };
      }
      if (proc.exit() !== undefined) throw exitedError(proc);
      if (performance.now() > end) throw new Error(`file-polling worker: no response.json for ${tool} after ${timeoutMs} ms\n${proc.tail()}`);
    }
  };
  return { proc, readyMs, call, stop };
}
