import { mkdirSync } from 'node:fs';
import { meshInvocation } from '../invocation.js';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { positiveArg } from '../../../src/cli-args.js';
import { waitUntil } from '../../../src/stdio/process-group.js';
import type { ResolvedManifest } from '../../../src/manifest/index.js';
import { readManifest } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { ProgressDisplay } from '../orchestrator/display.js';
import { lastLines } from '../../../src/stdio/stderr-tail.js';
import { logTail } from '../log-files.js';
import { spawnLogged } from '../orchestrator/spawn-logged.js';
import { leanNodeFlags } from '../orchestrator/node-flags.js';
import { fetchTools } from '../orchestrator/observe.js';
import { exampleCall, summaryText, tally } from '../orchestrator/summary.js';
import { jsonText, outputMode, type Output } from '../output.js';
import { meshHome } from '../../../src/mesh-home.js';
import { runDirFor, runLog, scripts } from '../paths.js';
import { resolveProxy, type ProxyLocation } from '../proxy-url.js';
import { clashMessage, isRunActive, manifestArgument, serviceClashes } from '../run-lookup.js';
import { applyToRunning } from './up-apply.js';
import { removeControlFile } from '../control-file.js';
import { readRunState, type RunState } from '../run-state.js';

interface UpOptions {
  file?: string;
  proxy?: string;
  detach?: boolean;
  timeout: number;
  json?: boolean;
  supervise?: boolean;
  share?: boolean;
}

/** `mesh up`: starts the mesh of a manifest and supervises it. */
export function upCommand(): Command {
  return new Command('up')
    .summary("start a manifest's mesh (proxy + services); --detach to background it; on a running mesh, apply changes")
    .description(
      "Start a manifest's mesh: the proxy (unless one answers), then every enabled service, with live progress; keeps supervising (restarting what dies, the proxy too) until Ctrl-C. On a mesh already running, apply the manifest: start new services, stop removed ones, restart changed ones",
    )
    .argument('[file]', 'the manifest (same as -f FILE; default ./mesh.yaml)')
    .option('-f, --file <file>', 'the manifest')
    .option('--proxy <url>', "proxy URL to use or start (default: the manifest's proxy section)")
    .option('-d, --detach', 'leave the mesh running in the background (logs in files under $MESH_HOME/runs); returns once every service is healthy or failed')
    .option('--timeout <seconds>', 'how long a service may take to become healthy before it is reported failed', positiveArg, 60)
    .option('--json', 'print JSON: a line per status change, then the summary')
    .option('--share', 'let services whose names another running mesh on the same proxy also runs join them as replicas (refused otherwise)')
    .addOption(new Option('--supervise', 'internal: the background supervisor of `up --detach`').hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n  mesh up configs/demo.yaml\n  mesh up -f configs/mesh.yaml --detach\n\nExit status: 0 when every service became healthy (or after Ctrl-C), 1 when some failed (--detach) or the manifest is invalid.\n',
    )
    .action(async (file: string | undefined, options: UpOptions) => {
      process.exitCode = await up(file, options);
    });
}

async function up(positional: string | undefined, options: UpOptions): Promise<number> {
  const file = manifestArgument(positional, options.file, 'up');
  const manifest = await readManifest(file);
  const runDir = runDirFor(file);
  const location = resolveProxy({ flag: options.proxy, manifest: { file, proxy: manifest.proxy } });
  const out = outputMode({ json: options.json });
  if (!options.supervise) {
    const enabled = Object.entries(manifest.services)
      .filter(([, s]) => s.enabled)
      .map(([name]) => name);
    const clashes = options.share ? [] : serviceClashes(runDir, location.url, enabled);
    if (clashes.length > 0) throw new CliError(clashMessage(file, clashes), EXIT.failed);
    const existing = readRunState(runDir);
    // Running already: the running supervisor applies the manifest (what changed starts, stops, restarts).
    if (existing !== undefined && isRunActive(existing)) return applyToRunning(file, runDir, existing, location.url, out);
  }
  if (options.detach && !options.supervise) return detach(file, manifest, runDir, options, out);
  return supervise(file, manifest, location, runDir, options, out);
}

// Where the default lookup (MESH_PROXY_URL, then the default URL) would not find this proxy, tips carry `-f FILE`.
function proxyArgsFor(file: string, state: RunState): string {
  const fallback = resolveProxy({});
  return fallback.url === state.proxy.url ? '' : `-f ${file}`;
}

async function printSummary(file: string, state: RunState, detached: boolean, out: Output): Promise<void> {
  const proxyArgs = proxyArgsFor(file, state);
  const healthy = Object.entries(state.services).find(([, s]) => s.status === 'healthy')?.[0];
  const example = healthy === undefined ? undefined : exampleCall(healthy, await fetchTools(state.proxy.url, healthy), proxyArgs);
  if (out.json) {
    const { total, healthy: ok, failed } = tally(state);
    process.stdout.write(jsonText({ manifest: state.manifest, proxy: state.proxy, mcpUrl: `${state.proxy.url}/mcp`, total, healthy: ok, failed, services: state.services }));
    return;
  }
  process.stdout.write(`\n${summaryText({ state, manifestArg: file, proxyArgs, detached, example }, out)}`);
}

// The first line of `mesh up`'s output: what starts, and where its logs go.
function startLine(file: string, manifest: ResolvedManifest, runDir: string, detached: boolean): string {
  const enabled = Object.values(manifest.services).filter((s) => s.enabled).length;
  return `mesh up ${file}${detached ? ' (detached)' : ''}: ${enabled} services; logs in ${runLog(runDir)}\n`;
}

// Foreground (and the background half of --detach): run, show progress, stop on a signal.
async function supervise(file: string, manifest: ResolvedManifest, location: ProxyLocation, runDir: string, options: UpOptions, out: Output): Promise<number> {
  const headless = options.supervise === true;
  const display = new ProgressDisplay(headless ? { ...out, tty: false, color: false } : out);
  // Loaded here: the `--detach` parent, which only starts and watches the supervisor, never needs them.
  const [{ MeshRun }, { startControlServer }] = await Promise.all([import('../orchestrator/mesh-run.js'), import('../orchestrator/control-server.js')]);
  const run = new MeshRun({ manifest, location, runDir, home: meshHome(), detached: headless, startTimeoutMs: options.timeout * 1000 });
  if (!out.json && !headless) process.stdout.write(startLine(file, manifest, runDir, false));
  let settled = false;
  run.on('change', (state) => {
    if (!settled || !out.tty || headless) display.update(state);
  });
  run.once('settled', (state) => {
    display.update(state);
    settled = true;
    display.freeze();
    if (!headless) void printSummary(file, state, false, out);
  });
  let signals = 0;
  const finished = new Promise<number>((resolveExit) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        process.stderr.write(`mesh: second ${signal}: exiting now (processes may be left; \`${meshInvocation()} down ${file}\` cleans up)\n`);
        // The shell's convention for "ended by this signal" (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
        process.exit(128 + constants.signals[signal]);
      }
      if (!out.json) process.stdout.write(`\nmesh: ${signal}: stopping the services${run.state.proxy.started ? ' and the proxy (unless another mesh uses it)' : ''}…\n`);
      run.stop().then(
        () => {
          if (!out.json) process.stdout.write('mesh: stopped.\n');
          resolveExit(EXIT.ok);
        },
        (error: unknown) => {
          process.stderr.write(`mesh: stopping the mesh of ${file} failed: ${(error as Error).message ?? String(error)}; \`${meshInvocation()} down ${file}\` stops what is left\n`);
          resolveExit(EXIT.failed);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  });
  try {
    await run.start();
  } catch (error) {
    await run.stop();
    throw error instanceof CliError ? new CliError(error.message, EXIT.failed) : error;
  }
  // A second `mesh up` of this manifest, and `mesh restart`, talk to this process through it.
  const control = await startControlServer(runDir, run, readManifest);
  const code = await finished;
  removeControlFile(runDir);
  await control.close();
  return code;
}

// --detach: a background `mesh up --supervise` does the work; this process shows its progress
// from the run's state file and returns once every service is healthy or failed.
async function detach(file: string, manifest: ResolvedManifest, runDir: string, options: UpOptions, out: Output): Promise<number> {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const log = runLog(runDir, 'up');
  const args = [...leanNodeFlags(), scripts.mesh, 'up', resolve(file), '--supervise', '--timeout', String(options.timeout), ...(options.proxy === undefined ? [] : ['--proxy', options.proxy])];
  const child = spawnLogged(process.execPath, args, { log, cwd: process.cwd() });
  let ended = false;
  void child.then(() => (ended = true));
  const display = new ProgressDisplay(out);
  if (!out.json) process.stdout.write(startLine(file, manifest, runDir, true));
  let state: RunState | undefined;
  await waitUntil(
    () => {
      const read = readRunState(runDir);
      if (read !== undefined && read.supervisor.pid === child.pid) {
        state = read;
        display.update(state);
        if (state.phase !== 'starting') return true;
      }
      return ended;
    },
    Number.POSITIVE_INFINITY,
    150,
  );
  child.unref?.();
  if (state === undefined || state.phase === 'failed' || state.phase === 'stopped' || state.phase === 'stopping') {
    const reason = state?.error ?? lastLines(logTail(log), 5, '\n  ');
    throw new CliError(`mesh up ${file} did not start: ${reason || `see ${log}`}`, EXIT.failed);
  }
  display.freeze();
  await printSummary(file, state, true, out);
  const { failed } = tally(state);
  if (failed.length > 0 && !out.json) process.stdout.write(`\nSome services failed (${failed.join(', ')}); the others keep running. \`${meshInvocation()} down ${file}\` stops them.\n`);
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
