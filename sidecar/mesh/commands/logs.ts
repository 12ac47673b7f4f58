import { statSync } from 'node:fs';
import { Command } from 'commander';
import { countArg } from '../../../src/cli-args.js';
import { CliError, EXIT } from '../errors.js';
import { outputMode, paint } from '../output.js';
import { readRange, tailLines } from '../log-files.js';
import { runLog } from '../paths.js';
import { findRun } from '../run-lookup.js';
import type { RunState } from '../run-state.js';

interface LogsOptions {
  file?: string;
  lines: number;
  follow?: boolean;
}

interface LogFile {
  label: string;
  path: string;
}

// `proxy` (when no service is named so) is the proxy's log, `up` the detached supervisor's.
function logFiles(state: RunState, dir: string, service: string): LogFile[] {
  const entry = state.services[service];
  if (entry !== undefined) return entry.instances.map((i) => ({ label: i.replica === 0 ? service : `${service}.${i.replica}`, path: i.log }));
  if (service === 'proxy' && state.proxy.log !== undefined) return [{ label: 'proxy', path: state.proxy.log }];
  if (service === 'up') return [{ label: 'up', path: runLog(dir, 'up') }];
  return [];
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

// Polls the files' sizes and prints what was appended, prefixed when there are several.
async function follow(files: readonly (LogFile & { offset: number })[], prefix: (label: string) => string): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (const file of files) {
        const size = sizeOf(file.path);
        if (size < file.offset) file.offset = 0; // truncated or replaced
        if (size === file.offset) continue;
        const text = readRange(file.path, file.offset, size);
        file.offset = size;
        process.stdout.write(text.replace(/^(?=.)/gm, prefix(file.label)));
      }
    }, 250);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `mesh logs SERVICE`: the log files `mesh up` wrote for a service. */
export function logsCommand(): Command {
  return new Command('logs')
    .summary("a service's log from `mesh up` (-n N, --follow)")
    .description('Show the log of a service started by `mesh up` (its sidecar and server output); `proxy` for the proxy started by up')
    .argument('<service>', 'service name (or proxy)')
    .option('-f, --file <file>', 'the manifest whose run to look in (default: the running mesh that has the service)')
    .option('-n, --lines <n>', 'lines to show from the end', countArg, 50)
    .option('--follow', 'keep printing what is appended (Ctrl-C to stop)')
    .addHelpText(
      'after',
      '\nLogs live in $MESH_HOME/runs/<manifest>-<hash>/logs/ (MESH_HOME defaults to ~/.mesh).\n\nExamples:\n  mesh logs fs\n  mesh logs fs -n 200\n  mesh logs memory --follow\n  mesh logs proxy -f configs/demo.yaml\n',
    )
    .action(async (service: string, options: LogsOptions) => {
      const { dir, state } = findRun(options.file, options.file === undefined && service !== 'proxy' && service !== 'up' ? service : undefined);
      const files = logFiles(state, dir, service);
      if (files.length === 0) {
        throw new CliError(
          `the mesh of ${state.manifest} has no service "${service}" (services: ${Object.keys(state.services).join(', ') || 'none'}${state.proxy.log === undefined ? '' : '; proxy'})`,
          EXIT.failed,
        );
      }
      const out = outputMode({});
      const prefix = (label: string) => (files.length > 1 ? `${paint(out, 'cyan', `[${label}]`)} ` : '');
      const tracked: (LogFile & { offset: number })[] = [];
      for (const file of files) {
        let tail: { text: string; size: number };
        try {
          tail = tailLines(file.path, options.lines);
        } catch {
          process.stderr.write(`mesh: no log yet at ${file.path}\n`);
          tracked.push({ ...file, offset: 0 });
          continue;
        }
        if (files.length > 1 && !options.follow) process.stdout.write(`${paint(out, 'bold', `==> ${file.label} (${file.path}) <==`)}\n`);
        process.stdout.write(files.length > 1 && options.follow ? tail.text.replace(/^(?=.)/gm, prefix(file.label)) : tail.text);
        tracked.push({ ...file, offset: tail.size });
      }
      if (options.follow) await follow(tracked, prefix);
    });
}
