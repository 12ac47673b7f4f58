import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';

/**
 * Starts a process in its own process group (argv, never a shell) with stdout and stderr appended
 * straight to `log` (a file descriptor, so the output lands there even when `mesh up` is gone).
 * @example const proc = spawnLogged(process.execPath, [scripts.proxy, '--port', '6001'], { log: 'logs/proxy.log' })
 */
export function spawnLogged(command: string, args: readonly string[], options: { log: string; cwd?: string; env?: Record<string, string> }) {
  mkdirSync(dirname(options.log), { recursive: true, mode: 0o700 });
  const fd = openSync(options.log, 'a', 0o600);
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} mesh up: ${[command, ...args].map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
    // execa's types name only fds 3-9, but any open descriptor is handed to spawn as it is.
    const file = fd as 3;
    const proc = execa(command, [...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      detached: true,
      stdin: 'ignore',
      stdout: file,
      stderr: file,
      reject: false,
      buffer: false,
    });
    proc.catch(() => undefined);
    return proc;
  } finally {
    closeSync(fd);
  }
}

/** A process started by spawnLogged. */
export type LoggedProcess = ReturnType<typeof spawnLogged>;

/** "exited with code 3" / "was killed by SIGKILL" from an execa result. */
export function describeEnd(result: { exitCode?: number | undefined; signal?: string | undefined; failed?: boolean; message?: string }): string {
  if (result.signal !== undefined) return `was killed by ${result.signal}`;
  if (result.exitCode !== undefined) return `exited with code ${result.exitCode}`;
  return result.failed === true && result.message ? `could not start (${result.message.split('\n')[0] ?? ''})` : 'exited';
}
