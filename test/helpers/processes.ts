import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { groupAlive, procStat, waitUntil } from '../../src/stdio/process-group.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const dist = (path: string) => `${root}dist/${path}`;
export const fixture = (name: string) => `${root}test/fixtures/${name}`;
export const everythingServer = `${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;

/** A port that was free a moment ago (the OS picks it; tests never hard-code ports). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until `accept(status, body)` holds; readiness is observed, never assumed after a sleep. */
export async function pollJson(url: string, accept: (status: number, body: any) => boolean, timeoutMs = 20_000, headers: Record<string, string> = {}): Promise<any> {
  let last: unknown;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const response = await fetch(url, { headers });
      const body = await response.json();
      last = body;
      if (accept(response.status, body)) return body;
    } catch (error) {
      last = error;
    }
    await delay(50);
  }
  throw new Error(`timed out polling ${url}; last: ${JSON.stringify(last instanceof Error ? last.message : last)}`);
}

/**
 * Waits until `check` holds (sync or async), polling every 20 ms; throws naming `what` after `timeoutMs`.
 * For conditions observed on the wire or in a process, never a fixed sleep.
 * @example await waitFor(async () => (await state()).cancelled > 0, 'the instance saw the call cancelled');
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(20);
  }
}

export interface Spawned {
  proc: ResultPromise;
  stdout: () => string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs a node script from dist/ in its own process group and makes sure the whole group is gone at teardown. */
export function spawnNode(script: string, args: string[], env: Record<string, string> = {}): Spawned {
  const proc = execa('node', [dist(script), ...args], { env, reject: false, detached: true, buffer: false, stdin: 'ignore' });
  proc.catch(() => undefined);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const pid = proc.pid;
      if (pid === undefined) return;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await waitUntil(() => proc.exitCode !== null || proc.signalCode !== null, 10_000);
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    },
  };
}

/** Live (non-zombie) child processes of `ppid`, read from /proc. */
export function liveChildren(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      const stat = procStat(entry);
      return stat !== undefined && stat.ppid === ppid && stat.state !== 'Z';
    })
    .map(Number);
}
