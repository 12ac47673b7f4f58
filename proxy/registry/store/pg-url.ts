/** True when a `--registry` value names a PostgreSQL database rather than a file. */
export function isPostgresUrl(value: string | undefined): value is string {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value);
}

/**
 * The URL with its password replaced by *** (for logs, /healthz and errors); credentials never leave.
 * @example redactUrl('postgres://mm:secret@db:5432/mm') // 'postgres://mm:***@db:5432/mm'
 */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, '***');
    return url.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** An error's message with any URL credentials in it redacted (pg messages may echo the connection string). */
export function redactError(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return '';
    }
  })();
  const code = (error as { code?: unknown } | undefined)?.code;
  const text = password.length > 0 ? message.split(password).join('***') : message;
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

// SQLSTATE classes 08 (connection), 57P01-57P03 (shutdown, cannot connect now), 53 (resources) and
// socket errors are worth retrying; any other server error would fail again.
/** True for an error that a later attempt on a new connection may not meet. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53');
  if (typeof code === 'string' && code.startsWith('E')) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT…
  return /connect|terminat|timeout|closed|ended/i.test(error instanceof Error ? error.message : String(error));
}
