import { resolve } from 'node:path';
import { meshInvocation } from '../invocation.js';
import { waitUntil } from '../../../src/stdio/process-group.js';
import { controlRequest, readControlFile } from '../control-file.js';
import { EXIT } from '../errors.js';
import type { ServiceChange } from '../orchestrator/apply-plan.js';
import { tally } from '../orchestrator/summary.js';
import { jsonText, type Output } from '../output.js';
import { isRunActive } from '../run-lookup.js';
import { readRunState, type RunState } from '../run-state.js';

// The manifest's ${VAR}s are read from this shell's environment, as for a first `mesh up`.
function definedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const MARK: Record<ServiceChange, string> = { started: '+', stopped: '-', restarted: '~', unchanged: '=' };

/**
 * A second `mesh up` of a running manifest: sends it to the running supervisor, which starts new
 * services, stops removed ones and restarts changed ones; prints the change per service and waits
 * until the started ones are healthy or failed.
 */
export async function applyToRunning(file: string, runDir: string, running: RunState, proxyUrl: string, out: Output): Promise<number> {
  const pid = running.supervisor.pid;
  // A supervisor still starting opens its control channel once every process is spawned.
  if (running.phase === 'starting') await waitUntil(() => readControlFile(runDir, pid) !== undefined || !isRunActive(running), 30_000, 100);
  const answer = (await controlRequest(runDir, pid, 'POST', '/apply', { manifest: resolve(file), env: definedEnv() }, file)) as { changes: Record<string, ServiceChange> };
  let state: RunState | undefined;
  await waitUntil(
    () => {
      state = readRunState(runDir);
      return state === undefined || !isRunActive(state) || state.phase !== 'starting';
    },
    Number.POSITIVE_INFINITY,
    150,
  );
  const failed = state === undefined ? [] : tally(state).failed;
  if (out.json) {
    process.stdout.write(jsonText({ applied: true, manifest: running.manifest, supervisor: pid, changes: answer.changes, failed }));
  } else {
    const entries = Object.entries(answer.changes);
    const changed = entries.filter(([, change]) => change !== 'unchanged').length;
    process.stdout.write(
      `mesh up ${file}: the mesh is running (mesh up pid ${pid}); applied the manifest: ${changed === 0 ? 'nothing changed' : `${changed} service${changed === 1 ? '' : 's'} changed`}\n`,
    );
    for (const [name, change] of entries) {
      const status = change === 'stopped' ? '' : ` (${state?.services[name]?.status ?? '?'})`;
      process.stdout.write(`  ${MARK[change]} ${name.padEnd(16)} ${change}${status}\n`);
    }
    if (proxyUrl !== running.proxy.url)
      process.stdout.write(
        `The proxy is still ${running.proxy.url}: a changed proxy section (now ${proxyUrl}) takes effect after \`${meshInvocation()} down ${file}\` and \`${meshInvocation()} up ${file}\`.\n`,
      );
    if (failed.length > 0) process.stdout.write(`Some services failed (${failed.join(', ')}); \`${meshInvocation()} logs SERVICE -f ${file}\` shows why.\n`);
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
