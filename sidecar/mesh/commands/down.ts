import { Command } from 'commander';
import { positiveArg } from '../../../src/cli-args.js';
import { CliError, EXIT } from '../errors.js';
import { jsonText, outputMode } from '../output.js';
import { bootId, groupStillAlive, isAlive, stopGroup, stopProcess } from '../process-refs.js';
import { findRun, givenManifest, isRunActive } from '../run-lookup.js';
import { readRunState, writeRunState, type ProcessRef, type RunState } from '../run-state.js';
import { waitUntil } from '../../../src/stdio/process-group.js';
import { releaseProxy, type ProxyRelease } from '../orchestrator/proxy-keeper.js';

interface DownOptions {
  file?: string;
  json?: boolean;
  timeout: number;
}

/** `mesh down`: stops what `mesh up` started for a manifest, the proxy too unless another mesh uses it. */
export function downCommand(): Command {
  return new Command('down')
    .summary('stop what `mesh up` started (the proxy too, unless another mesh uses it)')
    .description('Stop what `mesh up` started for a manifest: its services, then the proxy `mesh up` started, unless another running mesh still uses it')
    .argument('[file]', 'the manifest (same as -f FILE; default: the only running mesh)')
    .option('-f, --file <file>', 'the manifest')
    .option('--timeout <seconds>', 'how long to wait for a clean stop before killing', positiveArg, 30)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  mesh down configs/demo.yaml\n  mesh down            (the only running mesh)\n')
    .action(async (positional: string | undefined, options: DownOptions) => {
      process.exitCode = await down(givenManifest(positional, options.file, 'down'), options);
    });
}

function everyProcess(state: RunState): { what: string; ref: ProcessRef }[] {
  const refs: { what: string; ref: ProcessRef }[] = [];
  for (const [name, service] of Object.entries(state.services)) {
    for (const instance of service.instances) {
      if (instance.process) refs.push({ what: `${name} (${service.kind})`, ref: instance.process });
      if (instance.child) refs.push({ what: `${name}'s server`, ref: instance.child });
    }
  }
  return refs;
}

function proxyOutcome(state: RunState, proxy: ProxyRelease): string {
  if (!state.proxy.started) return `; the mesh-proxy at ${state.proxy.url} was already running and keeps running`;
  if (proxy.keptFor.length > 0) return `; the mesh-proxy at ${state.proxy.url} keeps running for ${proxy.keptFor.map((u) => u.manifest).join(', ')}`;
  return ' and the mesh-proxy it started (no other mesh uses it)';
}

async function down(file: string | undefined, options: DownOptions): Promise<number> {
  const out = outputMode({ json: options.json });
  const { dir, state } = findRun(file);
  const label = file ?? state.manifest;
  if (state.bootId !== bootId() || state.phase === 'stopped' || state.phase === 'failed') {
    const stale = state.bootId !== bootId() ? ' (recorded before a reboot)' : '';
    if (state.phase !== 'stopped') writeRunState(dir, { ...state, phase: 'stopped' });
    if (out.json) process.stdout.write(jsonText({ manifest: state.manifest, running: false }));
    else process.stdout.write(`mesh: the mesh of ${label} is not running${stale}; nothing to stop\n`);
    return EXIT.ok;
  }
  // The supervisor stops everything in order (sidecars deregister, then the proxy); it is asked first.
  if (isRunActive(state)) {
    try {
      process.kill(state.supervisor.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    await waitUntil(() => !isAlive(state.supervisor), options.timeout * 1000, 100);
  }
  // Whatever is left (the supervisor was killed, or did not finish in time) is stopped here.
  const latest = readRunState(dir) ?? state;
  const left = everyProcess(latest).filter(({ ref }) => groupStillAlive(ref));
  await Promise.all(left.map(({ ref }) => stopGroup(ref, 5_000)));
  await stopProcess(latest.supervisor, 2_000);
  // The supervisor left the shared proxy already; this covers one that was killed (idempotent).
  const proxy = await releaseProxy(latest.proxy, dir);
  const remaining = everyProcess(latest).filter(({ ref }) => groupStillAlive(ref));
  writeRunState(dir, { ...latest, phase: 'stopped' });
  const services = Object.keys(latest.services);
  if (out.json) {
    process.stdout.write(
      jsonText({
        manifest: latest.manifest,
        stopped: services,
        proxyStopped: latest.proxy.started && proxy.keptFor.length === 0,
        proxyKeptFor: proxy.keptFor.map((u) => u.manifest),
        forced: left.map((l) => l.what),
        remaining: remaining.map((r) => r.ref.pid),
      }),
    );
  } else {
    process.stdout.write(`mesh: stopped ${services.length} service${services.length === 1 ? '' : 's'} of ${label} (${services.join(', ')})${proxyOutcome(latest, proxy)}\n`);
    if (left.length > 0) process.stdout.write(`mesh: had to stop ${left.length} process group(s) directly: ${left.map((l) => `${l.what} pid ${l.ref.pid}`).join(', ')}\n`);
  }
  if (remaining.length > 0) throw new CliError(`processes still alive after stopping: ${remaining.map((r) => `${r.what} pid ${r.ref.pid}`).join(', ')}`, EXIT.failed);
  return EXIT.ok;
}
