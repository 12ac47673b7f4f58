// `mesh service install|uninstall` with HOME in a temporary folder and PATH holding no real
// systemctl (absent, or a stand-in that records its arguments): the user's systemd is never touched.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { runMesh } from '../helpers/mesh-cli.js';
import { dist, root } from '../helpers/processes.js';

t.setTimeout(120_000);
const manifest = join(root, 'configs/demo.yaml');

function sandbox(t: Test, systemctl?: { exit: number }) {
  const home = t.testdir({ bin: {} });
  const calls = join(home, 'systemctl-calls');
  if (systemctl !== undefined) {
    const fake = join(home, 'bin/systemctl');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${calls}'\n${systemctl.exit === 0 ? '' : 'echo "Failed to connect to bus" >&2\n'}exit ${systemctl.exit}\n`);
    chmodSync(fake, 0o755);
  }
  const env = { HOME: home, XDG_CONFIG_HOME: '', MESH_HOME: join(home, 'mesh-home'), PATH: join(home, 'bin') };
  const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
  return { home, env, unit: join(home, '.config/systemd/user/mm-mesh.service'), recorded };
}

t.test('without systemctl: the unit is written and the commands to run are printed', async (t) => {
  const box = sandbox(t);
  const dry = await runMesh(['service', 'install', manifest, '--dry-run'], { env: box.env });
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /--dry-run: not written/);
  t.match(dry.stdout, /^ExecStart=/m, 'the unit is printed');
  t.notOk(existsSync(box.unit), '--dry-run writes nothing');

  const install = await runMesh(['service', 'install', manifest], { env: box.env });
  t.equal(install.code, 0, install.stderr);
  const unit = readFileSync(box.unit, 'utf8');
  t.match(unit, new RegExp(`^ExecStart=${process.execPath} ${dist('sidecar/mesh/cli.js')} up ${manifest}$`, 'm'), "this install's mesh, up FILE, in the foreground");
  t.match(unit, /^Restart=on-failure$/m);
  t.match(unit, new RegExp(`^Environment=MESH_HOME=${join(box.home, 'mesh-home')}$`, 'm'));
  t.match(install.stdout, /systemctl --user daemon-reload\n\s+systemctl --user enable --now mm-mesh\.service/, 'what to run, since systemctl is not there');
  const analyze = await execa('systemd-analyze', ['verify', box.unit], { reject: false, env: { ...process.env, HOME: box.home } }).catch(() => undefined);
  if (analyze === undefined || analyze.exitCode === undefined) t.comment('systemd-analyze not available: unit syntax not verified');
  else t.equal(analyze.exitCode, 0, `systemd-analyze verify: ${analyze.stderr}`);

  const uninstall = await runMesh(['service', 'uninstall'], { env: box.env });
  t.equal(uninstall.code, 0, uninstall.stderr);
  t.notOk(existsSync(box.unit), 'uninstall removes the unit');
  const again = await runMesh(['service', 'uninstall'], { env: box.env });
  t.match(again.stdout, /nothing to remove/);
});

t.test('with systemctl: daemon-reload and enable --now, disable --now on uninstall', async (t) => {
  const box = sandbox(t, { exit: 0 });
  const install = await runMesh(['service', 'install', '-f', manifest, '--name', 'mm-demo'], { env: box.env });
  t.equal(install.code, 0, install.stderr);
  t.ok(existsSync(join(box.home, '.config/systemd/user/mm-demo.service')), '--name names the unit');
  t.same(box.recorded(), ['--user daemon-reload', '--user enable --now mm-demo.service']);
  const uninstall = await runMesh(['service', 'uninstall', '--name', 'mm-demo'], { env: box.env });
  t.equal(uninstall.code, 0, uninstall.stderr);
  t.same(box.recorded().slice(2), ['--user disable --now mm-demo.service', '--user daemon-reload']);
  t.notOk(existsSync(join(box.home, '.config/systemd/user/mm-demo.service')));
});

t.test('a systemctl that fails (no user bus) is reported with what to run by hand', async (t) => {
  const box = sandbox(t, { exit: 1 });
  const install = await runMesh(['service', 'install', manifest], { env: box.env });
  t.equal(install.code, 1, 'exit 1');
  t.match(install.stderr, /`systemctl --user daemon-reload` failed: Failed to connect to bus/);
  t.match(install.stderr, /systemctl --user enable --now mm-mesh\.service/, 'the steps left are named');
  t.ok(existsSync(box.unit), 'the unit stays written');
});

t.test('a manifest that does not load is refused before anything is written', async (t) => {
  const box = sandbox(t);
  mkdirSync(join(box.home, 'm'));
  writeFileSync(join(box.home, 'm/mesh.yaml'), 'version: 1\nservices: { bad: { args: [] } }\n');
  const install = await runMesh(['service', 'install', join(box.home, 'm/mesh.yaml')], { env: box.env });
  t.equal(install.code, 1, install.stderr);
  t.notOk(existsSync(box.unit));
  const badName = await runMesh(['service', 'install', manifest, '--name', 'a b'], { env: box.env });
  t.equal(badName.code, 2);
});
