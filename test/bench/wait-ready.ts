import { setTimeout as delay } from 'node:timers/promises';
import { exitedError, type Tracked } from './child-processes.js';

/**
 * Polls `probe` until it returns true, failing at once if `tracked` (or any of several) exits and
 * after `timeoutMs` otherwise. Readiness is observed, never assumed after a sleep.
 */
export async function waitReady(watched: Tracked | readonly Tracked[], what: string, probe: () => Promise<boolean>, timeoutMs = 20_000, stepMs = 10): Promise<void> {
  const all: readonly Tracked[] = Array.isArray(watched) ? watched : [watched as Tracked];
  const tracked = all[all.length - 1] as Tracked;
  const end = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < end) {
    for (const t of all) if (t.exit() !== undefined) throw exitedError(t);
    try {
      if (await probe()) return;
      last = 'not ready';
    } catch (error) {
      last = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
    await delay(stepMs);
  }
  const tails = all.map((t) => `--- ${t.label} output tail:\n${t.tail()}`).join('\n');
  throw new Error(`${tracked.label}: ${what} not ready after ${timeoutMs} ms (last: ${last})\n${tails}`);
}

/** GET `url` on loopback and report its status (a fresh connection each time; polling is not measured traffic). */
export async function httpStatus(url: string, init: RequestInit = {}): Promise<number> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status;
}

/** GET `url` and parse its JSON body (readiness probes; not measured traffic). */
export async function httpJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}
