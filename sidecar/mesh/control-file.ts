import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './errors.js';

const ControlFileSchema = z.object({ url: z.string(), token: z.string(), pid: z.number().int() });
export type ControlFile = z.infer<typeof ControlFileSchema>;

const FILE = 'control.json';

/** Writes where the supervisor's control channel listens and its token (0600). */
export function writeControlFile(runDir: string, control: ControlFile): void {
  const temp = join(runDir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify(control)}\n`, { mode: 0o600 });
  renameSync(temp, join(runDir, FILE));
}

/** Removes the control file (the supervisor is stopping). */
export function removeControlFile(runDir: string): void {
  rmSync(join(runDir, FILE), { force: true });
}

/** The control channel of the run in `runDir` when its supervisor `pid` wrote one. */
export function readControlFile(runDir: string, pid: number): ControlFile | undefined {
  try {
    const parsed = ControlFileSchema.safeParse(JSON.parse(readFileSync(join(runDir, FILE), 'utf8')));
    return parsed.success && parsed.data.pid === pid ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends one request to a running `mesh up` over its control channel; errors name the manifest.
 * @example await controlRequest(runDir, state.supervisor.pid, 'POST', '/restart', { service: 'fs' }, file)
 */
export async function controlRequest(runDir: string, pid: number, method: 'GET' | 'POST', path: string, body: unknown, manifest: string, timeoutMs = 120_000): Promise<unknown> {
  const control = readControlFile(runDir, pid);
  if (control === undefined)
    throw new CliError(`the \`mesh up\` of ${manifest} (pid ${pid}) has no control channel (started by an older mesh CLI?); \`mesh down ${manifest}\` then \`mesh up ${manifest}\` instead`);
  let response: Response;
  try {
    response = await fetch(`${control.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${control.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CliError(`cannot reach the \`mesh up\` of ${manifest} (pid ${pid}) at ${control.url}: ${(error as Error).message}`);
  }
  const answer = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (!response.ok) throw new CliError(`the \`mesh up\` of ${manifest}: ${answer?.error?.message ?? `HTTP ${response.status}`}`, EXIT.failed);
  return answer;
}
