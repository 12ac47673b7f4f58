import type { AuditEntry } from '../../src/contract/audit.js';
import type { RegistryEvent } from '../../src/contract/events.js';
import type { Load } from '../../src/contract/load.js';
import { paint, statusStyle, type Output } from './output.js';

// How `mesh status`, `mesh watch` and `mesh audit` put load figures, events and calls into words.

/** "14:03:07" in local time. */
export function clock(at: number): string {
  return new Date(at).toLocaleTimeString('en-GB', { hour12: false });
}

/** "3.2 ms", "1.4 s", or "-" for no figure. */
export function millis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(1)} s`;
}

/** "512 B", "3.4 KiB", "1.2 MiB", or "-". */
export function bytes(count: number | undefined): string {
  if (count === undefined) return '-';
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

/** An error rate as "0%", "2.5%". */
export function percent(rate: number): string {
  return rate === 0 ? '0%' : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}

/** The colour of an outcome word. */
export function outcomeText(out: Pick<Output, 'color'>, outcome: AuditEntry['outcome']): string {
  return paint(out, outcome === 'ok' ? 'green' : outcome === 'tool_error' ? 'yellow' : 'red', outcome);
}

/** One line of a registry event, as `mesh watch` prints it. */
export function eventLine(out: Pick<Output, 'color'>, event: RegistryEvent): string {
  const who = `${event.service} ${paint(out, 'gray', event.instance)}`;
  switch (event.type) {
    case 'joined':
      return `${clock(event.at)}  ${paint(out, 'green', 'joined')}  ${who} at ${event.url} (${paint(out, statusStyle(event.status), event.status)})`;
    case 'left':
      return `${clock(event.at)}  ${paint(out, 'red', 'left')}    ${who} (${event.reason}${event.by ? ` by ${event.by}` : ''})`;
    case 'status':
      return `${clock(event.at)}  ${paint(out, 'yellow', 'status')}  ${who} ${event.previous} → ${paint(out, statusStyle(event.status), event.status)} (${event.reason})`;
    case 'tools':
      return `${clock(event.at)}  ${paint(out, 'cyan', 'tools')}   ${who} now ${event.toolCount} tools (${event.previousHash.slice(0, 8)} → ${event.toolsHash.slice(0, 8)})`;
  }
}

/** One line of a routed call, as `mesh watch --calls` and `mesh audit --follow` print it. */
export function callLine(out: Pick<Output, 'color'>, entry: AuditEntry): string {
  const error = entry.errorCode ? ` ${paint(out, 'red', entry.errorCode)}` : '';
  const sizes = entry.requestBytes === undefined && entry.responseBytes === undefined ? '' : ` ${bytes(entry.requestBytes)} → ${bytes(entry.responseBytes)}`;
  return `${clock(entry.at)}  ${paint(out, 'blue', 'call')}    ${entry.caller ?? 'client'} → ${entry.service}.${entry.tool} ${outcomeText(out, entry.outcome)} ${millis(entry.durationMs)}${sizes}${error}`;
}

/** The cells of a load: calls/min, p95, errors, in flight, restarts. */
export function loadCells(load: Load | undefined): string[] {
  if (!load) return ['-', '-', '-', '-', '-'];
  return [String(load.calls1m), millis(load.p95Ms), percent(load.errorRate), String(load.inFlight), String(load.restarts)];
}
