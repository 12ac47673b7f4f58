// Lines of a crash report that never name the error: stack frames, the traceback header, Node's
// version footer and `file:line` header, and the caret lines under a quoted source line.
const FRAME = [/^\s+at\s/, /^\s*File ".*", line \d+/, /^Traceback \(most recent call last\):/, /^Node\.js v\d/, /^(file:\/\/|\/)\S*:\d+$/, /^\s*[\^~]+\s*$/];
// An exception's own line: `Error: ...`, `TypeError: ...`, `FileNotFoundError: ...`, `json.decoder.JSONDecodeError: ...`.
const NAMED = /^(?:[\w$]+\.)*\w*(?:Error|Exception)\b/;
const MENTIONS = /\b(?:error|fatal|panic)\b/i;

/**
 * The stderr line that names why a process died, for a one-line reason: Python prints the error
 * LAST (after the traceback), Node FIRST (before its `    at ...` frames); frames and quoted source
 * lines are skipped. Undefined when no line looks like an error.
 * @example errorLine('Traceback (most recent call last):\n  File "a.py", line 1\n    x()\nNameError: x') // 'NameError: x'
 */
export function errorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
  const candidates: string[] = [];
  lines.forEach((line, i) => {
    if (FRAME.some((frame) => frame.test(line))) return;
    // A source line a traceback quotes: under a `File "...", line N` frame, or above a caret line.
    if (i > 0 && /^\s*File ".*", line \d+/.test(lines[i - 1] ?? '')) return;
    if (/^\s*[\^~]+\s*$/.test(lines[i + 1] ?? '')) return;
    candidates.push(line.trim());
  });
  const named = candidates.filter((line) => NAMED.test(line));
  const python = lines.some((line) => line.startsWith('Traceback (most recent call last):'));
  if (named.length > 0) return python ? named[named.length - 1] : named[0];
  return candidates.find((line) => MENTIONS.test(line));
}
