/**
 * What a `mesh up` round left running after `mesh down`: every process whose environment or
 * command line names the round's temporary folder (its MESH_HOME, manifest and registry live
 * there, and children inherit MESH_HOME), and a proxy still answering at the round's URL.
 */
import { waitUntil } from '../../src/stdio/process-group.js';
import { processesNaming as namingMarker } from '../helpers/mesh-cli.js';
import { httpStatus } from './wait-ready.js';

export interface Leftover {
  /** 0 when only the proxy URL still answered and no process could be named. */
  pid: number;
  command: string;
}

// The test helper's, with commands cut for the report.
function processesNaming(marker: string): Leftover[] {
  return namingMarker(marker).map(({ pid, command }) => ({ pid, command: command.slice(0, 200) }));
}

/**
 * Waits up to `waitMs` for every process naming `dir` to end and `proxyUrl` to stop answering;
 * SIGKILLs what is still there (it is this round's, by its folder) and returns it.
 */
export async function leftovers(dir: string, proxyUrl: string, waitMs = 10_000): Promise<Leftover[]> {
  let procs: Leftover[] = [];
  let answering = false;
  const clean = await waitUntil(
    async () => {
      procs = processesNaming(dir);
      answering = (await httpStatus(`${proxyUrl}/healthz`).catch(() => 0)) !== 0;
      return procs.length === 0 && !answering;
    },
    waitMs,
    50,
  );
  if (clean) return [];
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return answering && procs.length === 0 ? [{ pid: 0, command: `a proxy still answers at ${proxyUrl}` }] : procs;
}
