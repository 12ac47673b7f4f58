import { Command } from 'commander';
import { meshInvocation } from '../invocation.js';
import { controlRequest } from '../control-file.js';
import { CliError, EXIT } from '../errors.js';
import { jsonText, outputMode } from '../output.js';
import { findRun, givenManifest, isRunActive } from '../run-lookup.js';

interface RestartOptions {
  file?: string;
  json?: boolean;
}

/** `mesh restart SERVICE`: the running `mesh up` restarts one service's processes. */
export function restartCommand(): Command {
  return new Command('restart')
    .summary("restart one service's processes (the proxy keeps it listed meanwhile)")
    .description(
      'Restart one service of a running mesh, through its `mesh up` supervisor: a sidecar restarts its server in place (the instance stays registered, as restarting, so callers see a short unavailability, never an unknown service); a native instance is stopped and started again',
    )
    .argument('<service>', 'the service to restart')
    .option('-f, --file <file>', 'the manifest (default: the only running mesh)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  mesh restart fs\n  mesh restart fs -f configs/demo.yaml\n')
    .action(async (service: string, options: RestartOptions) => {
      const out = outputMode({ json: options.json });
      const file = givenManifest(undefined, options.file, 'restart');
      const { dir, state } = findRun(file);
      const label = file ?? state.manifest;
      if (!isRunActive(state)) throw new CliError(`the mesh of ${label} is not running; \`${meshInvocation()} up ${label}\` starts it`, EXIT.failed);
      const answer = (await controlRequest(dir, state.supervisor.pid, 'POST', '/restart', { service }, label)) as { instances: { replica: number; pid?: number }[] };
      if (out.json) process.stdout.write(jsonText({ manifest: state.manifest, service, instances: answer.instances }));
      else process.stdout.write(`mesh: restarted ${service} (${answer.instances.map((i) => `${answer.instances.length > 1 ? `replica ${i.replica}: ` : ''}server pid ${i.pid ?? '?'}`).join(', ')})\n`);
      process.exitCode = EXIT.ok;
    });
}
