import { setTimeout as delay } from 'node:timers/promises';
import { exitedError, type Tracked } from './child-processes.js';

/**
 * Polls `probe` until it returns true, failing at once if `tracked` exits and after `timeoutMs`
 * otherwise. Readiness is observed, never assumed after a sleep.
 */
export async function waitReady(tracked: Tracked, what: string, probe: () => Promise<boolean>, timeoutMs = 20_000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < end) {
    if (tracked.exit() !== undefined) throw exitedError(tracked);
    try {
      if (await probe()) return;
      last = 'not ready';
    } catch (error) {
      last = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
    await delay(stepMs);
  }
  throw new Error(`${tracked.label}: ${what} not ready after ${timeoutMs} ms (last: ${last}); output tail:\n${tracked.tail()}`);
}

/** GET `url` on loopback and report its status (a fresh connection each time; polling is not measured traffic). */
export async function httpStatus(url: string, init: RequestInit = {}): Promise<number> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status;
}
