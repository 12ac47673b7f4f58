#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../../src/cli-args.js';
import { callCommand } from './commands/call.js';
import { configCommand } from './commands/config.js';
import { downCommand } from './commands/down.js';
import { importCommand } from './commands/import.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { toolsCommand } from './commands/tools.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import { describeError, EXIT, exitCodeOf } from './errors.js';

const program = new Command('mesh')
  .description('MM - MCP Mesh: start a mesh of MCP servers from a YAML manifest, list them, call their tools.')
  .version(packageVersion)
  .addCommand(upCommand())
  .addCommand(downCommand())
  .addCommand(lsCommand())
  .addCommand(toolsCommand())
  .addCommand(callCommand())
  .addCommand(logsCommand())
  .addCommand(configCommand())
  .addCommand(validateCommand())
  .addCommand(importCommand())
  .addHelpText(
    'after',
    `
Examples:
  mesh up configs/demo.yaml            start the demo mesh (Ctrl-C stops it; --detach to background it)
  mesh ls                              what is registered, and how it is doing
  mesh call fs list_files              call a tool (KEY=VALUE arguments, or --json '{...}')
  mesh config claude                   put the mesh into Claude Code

The proxy is found from --proxy URL, else -f FILE's proxy section, else MESH_PROXY_URL, else
http://127.0.0.1:6001. State and logs of \`mesh up\` live under MESH_HOME (default ~/.mesh).
Exit status: 0 ok, 1 a failure (tool error, failed service, invalid manifest), 2 a usage or mesh error.`,
  );

// Usage errors exit 2 (commander's default is 1, which `mesh call` uses for tool errors).
function configure(command: Command): void {
  command.exitOverride().showHelpAfterError('(add --help for usage)');
  for (const sub of command.commands) configure(sub);
}
configure(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help/version) already.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.error;
  } else {
    process.stderr.write(`mesh: ${describeError(error)}\n`);
    process.exitCode = exitCodeOf(error);
  }
}
