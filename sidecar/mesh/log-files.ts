import { closeSync, openSync, readSync, statSync } from 'node:fs';

// The log files `mesh up` writes (one per process, appended to by each start after a `=== ` marker
// line) and what reads them: `mesh logs` and the failure reasons of `mesh up`.

/** Bytes `start`..`end` of a file as text (throws when it cannot be read). */
export function readRange(path: string, start: number, end: number): string {
  if (end <= start) return '';
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `count` lines of a file and its size (reads at most the last 1 MiB; throws when it cannot be read).
 * @example const { text, size } = tailLines(log, 50)
 */
export function tailLines(path: string, count: number): { text: string; size: number } {
  const size = statSync(path).size;
  if (count === 0) return { text: '', size };
  const lines = readRange(path, Math.max(0, size - 1024 * 1024), size).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.slice(-count);
  return { text: kept.length === 0 ? '' : `${kept.join('\n')}\n`, size };
}

/**
 * The last `bytes` of a log file, from its last start marker on (empty when unreadable).
 * @example lastLines(logTail(state.log), 3)
 */
export function logTail(path: string, bytes = 4_096): string {
  try {
    const size = statSync(path).size;
    const text = readRange(path, Math.max(0, size - bytes), size);
    const marker = text.lastIndexOf('\n=== ');
    return marker === -1 ? text : text.slice(text.indexOf('\n', marker + 1) + 1);
  } catch {
    return '';
  }
}
