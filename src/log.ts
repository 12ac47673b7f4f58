export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(prefix: string): Logger;
}

/** Line-oriented logger to stderr (stdout of a sidecar is kept for its ready line). */
export function createLogger(prefix: string, level: LogLevel = (process.env.MESH_LOG_LEVEL as LogLevel) || 'info'): Logger {
  const min = rank[level] ?? rank.info;
  const write = (lvl: LogLevel, message: string) => {
    if (rank[lvl] < min) return;
    process.stderr.write(`${new Date().toISOString()} ${lvl.padEnd(5)} [${prefix}] ${message}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    child: (sub) => createLogger(`${prefix}:${sub}`, level),
  };
}

/** A logger that drops everything (tests, library defaults). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
