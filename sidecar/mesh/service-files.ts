/**
 * The files that run a manifest's mesh at login: a systemd user unit (Linux) or a launchd agent
 * (macOS). Pure: `mesh service` decides where they go and what to run.
 */
import { join } from 'node:path';

/** What the login service runs: `node <mesh cli> up <manifest>` in the foreground, supervised by the init system. */
export interface ServiceSpec {
  /** systemd unit name without `.service`, launchd label suffix. */
  name: string;
  /** Absolute path of the node binary that runs this install's mesh. */
  node: string;
  /** Absolute path of this install's `mesh` CLI (dist/sidecar/mesh/cli.js). */
  mesh: string;
  /** Absolute path of the manifest. */
  manifest: string;
  /** MESH_HOME of the service (state, logs, the optional service.env). */
  meshHome: string;
  /** PATH for the services' commands (python3, npx...): the installing shell's, since init systems start with a bare one. */
  path: string;
}

/** A service name usable as a unit file name and a launchd label. */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The optional file of extra variables (MESH_TOKEN=...), kept out of the unit so a token is never written there. */
export function serviceEnvFile(spec: Pick<ServiceSpec, 'meshHome' | 'name'>): string {
  return join(spec.meshHome, `${spec.name}.env`);
}

// Path settings (WorkingDirectory, EnvironmentFile) take no quotes, only `%` specifiers to escape.
function specifiers(text: string): string {
  return text.replace(/%/g, '%%');
}

// Double-quoted when it needs to be, `\` and `"` escaped (ExecStart and Environment take quotes).
function quoted(text: string): string {
  return /^[A-Za-z0-9_./:@=+,-]+$/.test(text) ? text : `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One word of an ExecStart command line: quoted, `%` specifiers and `$` variables escaped. */
export function execWord(text: string): string {
  return quoted(specifiers(text).replace(/\$/g, '$$$$'));
}

/** One `Environment=` assignment (`NAME=value`): quoted, `%` escaped (no `$` expansion there). */
export function envWord(text: string): string {
  return quoted(specifiers(text));
}

/**
 * The systemd user unit: `mesh up` in the foreground (it supervises its services and stops them
 * in order on SIGTERM, so only it gets the signal: KillMode=mixed), restarted on failure.
 * @example systemdUnit({ name: 'mm-mesh', node: '/usr/bin/node', mesh: '/usr/lib/node_modules/mm-mesh/dist/sidecar/mesh/cli.js', manifest: '/home/me/mesh.yaml', meshHome: '/home/me/.mesh', path: '/usr/bin:/bin' })
 */
export function systemdUnit(spec: ServiceSpec): string {
  const manifestDir = join(spec.manifest, '..');
  return `# Written by \`mesh service install\`; \`mesh service uninstall\` removes it.
[Unit]
Description=MM mesh of ${specifiers(spec.manifest)}

[Service]
Type=simple
ExecStart=${[spec.node, spec.mesh, 'up', spec.manifest].map(execWord).join(' ')}
WorkingDirectory=${specifiers(manifestDir)}
Environment=${envWord(`MESH_HOME=${spec.meshHome}`)}
Environment=${envWord(`PATH=${spec.path}`)}
EnvironmentFile=-${specifiers(serviceEnvFile(spec))}
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=60

[Install]
WantedBy=default.target
`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The launchd label of a service. */
export function launchdLabel(name: string): string {
  return `local.${name}`;
}

/**
 * The launchd agent: the same `mesh up` at login, restarted when it exits with a failure.
 * @example launchdPlist(spec) // '<?xml version="1.0" ...'
 */
export function launchdPlist(spec: ServiceSpec): string {
  const strings = (values: string[]) => values.map((v) => `    <string>${xml(v)}</string>`).join('\n');
  const log = join(spec.meshHome, `${spec.name}.log`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by \`mesh service install\`; \`mesh service uninstall\` removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(launchdLabel(spec.name))}</string>
  <key>ProgramArguments</key>
  <array>
${strings([spec.node, spec.mesh, 'up', spec.manifest])}
  </array>
  <key>WorkingDirectory</key>
  <string>${xml(join(spec.manifest, '..'))}</string>
  <key>EnvironmentVariables</key>
  <dict>
    <key>MESH_HOME</key>
    <string>${xml(spec.meshHome)}</string>
    <key>PATH</key>
    <string>${xml(spec.path)}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>StandardOutPath</key>
  <string>${xml(log)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(log)}</string>
</dict>
</plist>
`;
}
