#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../../src/cli-args.js';
import { describeError, EXIT, exitCodeOf } from './errors.js';

// Each command's module (and what it pulls in: the client, the manifest loader, execa) is loaded
// only when that command runs, or all of them for the overview help.
const commands: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands/up.js')).upCommand(),
  demo: async () => (await import('./commands/demo.js')).demoCommand(),
  down: async () => (await import('./commands/down.js')).downCommand(),
  restart: async () => (await import('./commands/restart.js')).restartCommand(),
  ls: async () => (await import('./commands/ls.js')).lsCommand(),
  status: async () => (await import('./commands/status.js')).statusCommand(),
  watch: async () => (await import('./commands/watch.js')).watchCommand(),
  audit: async () => (await import('./commands/audit.js')).auditCommand(),
  tools: async () => (await import('./commands/tools.js')).toolsCommand(),
  call: async () => (await import('./commands/call.js')).callCommand(),
  logs: async () => (await import('./commands/logs.js')).logsCommand(),
  config: async () => (await import('./commands/config.js')).configCommand(),
  validate: async () => (await import('./commands/validate.js')).validateCommand(),
  import: async () => (await import('./commands/import.js')).importCommand(),
  service: async () => (await import('./commands/service.js')).serviceCommand(),
};
// A reader that stops early (`mesh tools | head`) ends the command quietly, as it does any Unix tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

// MESH_CA: an https proxy's CA, trusted by every command (besides the system store).
if (process.env.MESH_CA) (await import('./trust-ca.js')).trustCaGlobally(process.env.MESH_CA);

const wanted = process.argv[2];
const loaded = wanted !== undefined && Object.hasOwn(commands, wanted) ? [commands[wanted]!] : Object.values(commands);

const program = new Command('mesh')
  .description('MM - MCP Mesh: start a mesh of MCP servers from a YAML manifest, list them, call their tools.')
  .version(packageVersion)
  .addHelpText(
    'after',
    `
Examples:
  mesh demo                            start the demo mesh that ships with mm-mesh (--detach to background it)
  mesh up configs/demo.yaml            start the mesh of a manifest (Ctrl-C stops it; --detach to background it)
  mesh ls                              what is registered, and how it is doing
  mesh status                          one screen: health, calls/min, p95, errors, restarts
  mesh watch                           the mesh's events, live (Ctrl-C ends it)
  mesh audit --since 10m --errors      who called what, and what failed
  mesh call fs list_files              call a tool (KEY=VALUE arguments, or --json '{...}')
  mesh config claude                   put the mesh into Claude Code (or claude-desktop, cursor, vscode)
  mesh service install mesh.yaml       run a manifest's mesh at login (systemd user unit, launchd agent)

The proxy is found from --proxy URL, else -f FILE's proxy section, else MESH_PROXY_URL, else
http://127.0.0.1:6001. State and logs of \`mesh up\` live under MESH_HOME (default ~/.mesh).
Exit status: 0 ok, 1 a failure (tool error, failed service, invalid manifest), 2 a usage or mesh error.`,
  );

for (const load of loaded) program.addCommand(await load());

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
