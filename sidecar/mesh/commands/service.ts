import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { meshHome } from '../../../src/mesh-home.js';
import { readManifest } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { scripts } from '../paths.js';
import { manifestArgument } from '../run-lookup.js';
import { launchdLabel, launchdPlist, SERVICE_NAME_PATTERN, serviceEnvFile, systemdUnit, type ServiceSpec } from '../service-files.js';

interface ServiceOptions {
  file?: string;
  name: string;
  dryRun?: boolean;
}

type Platform = 'systemd' | 'launchd';

function platform(): Platform {
  return process.platform === 'darwin' ? 'launchd' : 'systemd';
}

// The unit or agent file of a service, under this user's home (HOME, XDG_CONFIG_HOME).
function serviceFile(kind: Platform, name: string): string {
  if (kind === 'launchd') return join(homedir(), 'Library/LaunchAgents', `${launchdLabel(name)}.plist`);
  const config = process.env.XDG_CONFIG_HOME !== undefined && process.env.XDG_CONFIG_HOME !== '' ? process.env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, 'systemd/user', `${name}.service`);
}

// An executable of that name on PATH, as the shell would find it.
function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// Runs systemctl steps in order; on the first failure, says which and what to run by hand.
async function systemctl(steps: string[][]): Promise<number> {
  if (!onPath('systemctl')) {
    process.stdout.write(`systemctl is not on PATH; where systemd runs, run:\n${steps.map((s) => `  systemctl ${s.join(' ')}`).join('\n')}\n`);
    return EXIT.ok;
  }
  for (const [index, step] of steps.entries()) {
    const result = await execa('systemctl', step, { reject: false, stdin: 'ignore' });
    if (result.exitCode !== 0) {
      const left = steps.slice(index).map((s) => `  systemctl ${s.join(' ')}`);
      process.stderr.write(
        `mesh: \`systemctl ${step.join(' ')}\` failed: ${String(result.stderr).trim() || `exit ${result.exitCode}`}\nRun by hand once a user systemd runs (a login session, or \`loginctl enable-linger\`):\n${left.join('\n')}\n`,
      );
      return EXIT.failed;
    }
    process.stdout.write(`ran: systemctl ${step.join(' ')}\n`);
  }
  return EXIT.ok;
}

function checkName(name: string): void {
  if (!SERVICE_NAME_PATTERN.test(name)) throw new CliError(`--name: use letters, digits, ".", "_" or "-" (got ${JSON.stringify(name)})`);
}

async function install(positional: string | undefined, options: ServiceOptions): Promise<number> {
  checkName(options.name);
  const manifest = resolve(manifestArgument(positional, options.file, 'service install'));
  await readManifest(manifest); // a manifest that does not load would only fail at login
  const spec: ServiceSpec = { name: options.name, node: process.execPath, mesh: scripts.mesh, manifest, meshHome: meshHome(), path: process.env.PATH ?? '/usr/bin:/bin' };
  const kind = platform();
  const file = serviceFile(kind, options.name);
  const content = kind === 'launchd' ? launchdPlist(spec) : systemdUnit(spec);
  const replaces = existsSync(file);
  const tokenNote = `MESH_TOKEN and other variables go in ${serviceEnvFile(spec)} (NAME=value lines, mode 0600), never in the ${kind === 'launchd' ? 'plist' : 'unit'}.\n`;
  if (options.dryRun) {
    process.stdout.write(`# ${file} (--dry-run: not written)\n${content}\n${tokenNote}`);
    return EXIT.ok;
  }
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content, { mode: 0o644 });
  process.stdout.write(`${replaces ? 'replaced' : 'wrote'} ${file}: \`mesh up ${manifest}\` at login, restarted on failure\n${tokenNote}`);
  if (kind === 'launchd') {
    const uid = process.getuid?.() ?? '$(id -u)';
    process.stdout.write(`To start it now and at every login, run\n  launchctl bootstrap gui/${uid} ${file}\n`);
    return EXIT.ok;
  }
  return systemctl([
    ['--user', 'daemon-reload'],
    ['--user', 'enable', '--now', `${options.name}.service`],
  ]);
}

async function uninstall(options: ServiceOptions): Promise<number> {
  checkName(options.name);
  const kind = platform();
  const file = serviceFile(kind, options.name);
  if (!existsSync(file)) {
    process.stdout.write(`no ${file}: nothing to remove\n`);
    return EXIT.ok;
  }
  if (options.dryRun) {
    process.stdout.write(`would stop ${options.name} and remove ${file} (--dry-run)\n`);
    return EXIT.ok;
  }
  if (kind === 'launchd') {
    const uid = process.getuid?.() ?? '$(id -u)';
    rmSync(file);
    process.stdout.write(`removed ${file}; if it is loaded, run\n  launchctl bootout gui/${uid}/${launchdLabel(options.name)}\n`);
    return EXIT.ok;
  }
  // Disabled and stopped first (while systemd still has the unit), then removed and forgotten.
  const stopped = await systemctl([['--user', 'disable', '--now', `${options.name}.service`]]);
  rmSync(file);
  process.stdout.write(`removed ${file}\n`);
  const reloaded = await systemctl([['--user', 'daemon-reload']]);
  return Math.max(stopped, reloaded);
}

/** `mesh service install|uninstall`: run a manifest's mesh at login (systemd user unit, launchd agent). */
export function serviceCommand(): Command {
  const service = new Command('service')
    .summary("run a manifest's mesh at login: a systemd user unit (Linux) or a launchd agent (macOS)")
    .description(
      "Run a manifest's mesh at login: `install` writes a systemd user unit (Linux; enabled and started when systemctl is there) or a launchd agent (macOS) running `mesh up FILE` in the foreground; `uninstall` removes it",
    );
  service
    .command('install')
    .description(
      'Write the unit (~/.config/systemd/user/NAME.service) or agent (~/Library/LaunchAgents/local.NAME.plist) that runs `mesh up FILE` at login, restarted on failure; with systemd, also daemon-reload and enable --now',
    )
    .argument('[file]', 'the manifest (same as -f FILE; default ./mesh.yaml)')
    .option('-f, --file <file>', 'the manifest')
    .option('--name <name>', 'the unit name (one per mesh you run at login)', 'mm-mesh')
    .option('--dry-run', 'print the file and where it would go; write and run nothing')
    .addHelpText(
      'after',
      '\nThe unit runs this install of mesh (node and the CLI by absolute path) with MESH_HOME and PATH as they are now.\n\nExamples:\n  mesh service install configs/mesh.yaml\n  mesh service install "$(mesh demo --path)" --dry-run\n',
    )
    .action(async (file: string | undefined, options: ServiceOptions) => {
      process.exitCode = await install(file, options);
    });
  service
    .command('uninstall')
    .description('Stop and remove the unit or agent `mesh service install` wrote')
    .option('--name <name>', 'the unit name', 'mm-mesh')
    .option('--dry-run', 'say what would be removed; remove and run nothing')
    .action(async (options: ServiceOptions) => {
      process.exitCode = await uninstall(options);
    });
  return service;
}
