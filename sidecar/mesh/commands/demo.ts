import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { positiveArg } from '../../../src/cli-args.js';
import { upCommand } from './up.js';

interface DemoOptions {
  path?: boolean;
  detach?: boolean;
  json?: boolean;
  timeout: number;
}

// Built, this file is dist/sidecar/mesh/commands/demo.js (configs/ four levels up, beside dist/);
// run from the sources by tsx, it is sidecar/mesh/commands/demo.ts (three levels up).
/** The demo manifest of this installation of mm-mesh (configs/demo.yaml of the package). */
export function demoManifest(): string {
  const built = fileURLToPath(new URL('../../../../configs/demo.yaml', import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL('../../../configs/demo.yaml', import.meta.url));
}

/** `mesh demo`: `mesh up` of the demo manifest that ships with the package, from any folder. */
export function demoCommand(): Command {
  return new Command('demo')
    .summary('start the demo mesh that ships with mm-mesh (fs, memory, cmc; offline), from any folder')
    .description(
      "Start the demo mesh that ships with mm-mesh: `mesh up` of the package's configs/demo.yaml (a Python fs server, a Python knowledge-graph memory server, the native cmc instance; runs offline, needs python3)",
    )
    .option('--path', 'only print the path of the demo manifest (for `mesh up`, `mesh down`, `mesh validate`, or to copy it)')
    .option('-d, --detach', 'leave the demo running in the background; returns once every service is healthy or failed')
    .option('--timeout <seconds>', 'how long a service may take to become healthy before it is reported failed', positiveArg, 60)
    .option('--json', 'print JSON: a line per status change, then the summary')
    .addHelpText(
      'after',
      '\nExamples:\n  mesh demo                  (Ctrl-C stops it)\n  mesh demo --detach && mesh call fs list_files && mesh down\n  cp "$(mesh demo --path)" mesh.yaml      (a start for your own manifest)\n',
    )
    .action(async (options: DemoOptions) => {
      const file = demoManifest();
      if (options.path) {
        process.stdout.write(`${file}\n`);
        return;
      }
      const flags = [...(options.detach ? ['--detach'] : []), ...(options.json ? ['--json'] : []), '--timeout', String(options.timeout)];
      await upCommand()
        .exitOverride()
        .parseAsync([file, ...flags], { from: 'user' });
    });
}
