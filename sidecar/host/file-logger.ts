import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger, LogLevel } from '../../src/log.js';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger appending lines to one service's log file (as its own sidecar's stderr would), so that
 * `mesh logs <service>` shows the same lines whether the service shares the host or not.
 * @example const { log, close } = fileLogger('fs', '<runDir>/logs/fs.log')
 */
export function fileLogger(prefix: string, file: string, level: LogLevel = (process.env.MESH_LOG_LEVEL as LogLevel) || 'info'): { log: Logger; close(): void } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const stream: WriteStream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  // A full disk or a removed folder must not end the host (and every other service in it).
  stream.on('error', () => undefined);
  const min = rank[level] ?? rank.info;
  const make = (name: string): Logger => {
    const write = (lvl: LogLevel, message: string) => {
      if (rank[lvl] >= min) stream.write(`${new Date().toISOString()} ${lvl.padEnd(5)} [${name}] ${message}\n`);
    };
    return {
      debug: (m) => write('debug', m),
      info: (m) => write('info', m),
      warn: (m) => write('warn', m),
      error: (m) => write('error', m),
      child: (sub) => make(`${name}:${sub}`),
    };
  };
  return { log: make(prefix), close: () => stream.end() };
}
