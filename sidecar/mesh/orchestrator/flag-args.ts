/**
 * Manifest values as `--flag value` pairs; an omitted value gives no flag, so the daemon keeps its default.
 * @example flagArgs({ '--max-sessions': 50, '--drain-timeout': undefined }) // ['--max-sessions', '50']
 */
export function flagArgs(flags: Record<string, number | string | undefined>): string[] {
  return Object.entries(flags).flatMap(([flag, value]) => (value === undefined ? [] : [flag, String(value)]));
}
