/** Keeps the last lines a child wrote to stderr, so errors can quote them without unbounded memory. */
export class StderrTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines = 40,
    private readonly maxLineLength = 2_000,
  ) {}

  /** Feeds a raw chunk; returns the complete lines it finished (for logging). */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxLineLength) {
      parts.push(this.partial);
      this.partial = '';
    }
    const done: string[] = [];
    for (const raw of parts) {
      const line = raw.replace(/\r$/, '').slice(0, this.maxLineLength);
      if (line.length === 0) continue;
      done.push(line);
      this.lines.push(line);
    }
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
    return done;
  }

  /** The last `count` lines, the unterminated one included, joined with newlines. */
  text(count = 10): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-count).join('\n');
  }
}

/**
 * The last `count` non-blank lines of `text`, trimmed and joined (one line by default), for quoting
 * a log or stderr tail in a one-line reason.
 * @example lastLines('a\nError: boom\n', 3) // 'a | Error: boom'
 */
export function lastLines(text: string, count: number, separator = ' | '): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(separator);
}
