/** How a command prints: colours and redraws only on a terminal, JSON when asked. */
export interface Output {
  color: boolean;
  tty: boolean;
  json: boolean;
  /** Terminal width (80 when unknown). */
  columns: number;
}

/**
 * Decides the output mode: colour only when stdout is a terminal and NO_COLOR is unset.
 * @example const out = outputMode({ json: opts.json })
 */
export function outputMode(options: { json?: boolean | undefined } = {}, stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Output {
  const tty = stream.isTTY === true;
  return { tty, color: tty && (env.NO_COLOR === undefined || env.NO_COLOR === ''), json: options.json === true, columns: stream.columns || 80 };
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Style = keyof typeof codes;

/** Wraps text in an ANSI style when colour is on. */
export function paint(out: Pick<Output, 'color'>, style: Style, text: string): string {
  return out.color ? `\x1b[${codes[style]}m${text}\x1b[0m` : text;
}

// ANSI escapes take no room on screen.
/** The visible width of a string (ANSI escapes removed). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * Aligned columns with a header row; cells may carry colour.
 * @example table(['NAME', 'STATUS'], [['fs', 'healthy']])
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], out?: Pick<Output, 'color'>): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((row) => visibleLength(row[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  const head = line(header);
  return [out ? paint(out, 'bold', head) : head, ...rows.map(line)].join('\n');
}

/** "3s ago", "2m ago", "1h ago" from a time in ms. */
export function ago(at: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/** Colour of a status word. */
export function statusStyle(status: string): Style {
  if (status === 'healthy') return 'green';
  if (status === 'starting' || status === 'restarting' || status === 'pending') return 'yellow';
  if (status === 'stopped' || status === 'disabled' || status === 'absent') return 'gray';
  return 'red';
}

/** Pretty JSON with a final newline, for `--json`. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
