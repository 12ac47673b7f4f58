// The login service's files: the systemd unit runs this install's mesh in the foreground, words
// quoted for systemd; the launchd agent carries the same command, XML-escaped.
import t from 'tap';
import { envWord, execWord, launchdPlist, systemdUnit, type ServiceSpec } from '../../sidecar/mesh/service-files.js';

const spec: ServiceSpec = {
  name: 'mm-mesh',
  node: '/usr/bin/node',
  mesh: '/usr/lib/node_modules/mm-mesh/dist/sidecar/mesh/cli.js',
  manifest: '/home/me/meshes/mesh.yaml',
  meshHome: '/home/me/.mesh',
  path: '/usr/local/bin:/usr/bin:/bin',
};

function setting(unit: string, key: string): string[] {
  return unit
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

t.test('systemd unit: mesh up in the foreground, restarted on failure, MESH_HOME and PATH set', async (t) => {
  const unit = systemdUnit(spec);
  t.same(setting(unit, 'ExecStart'), ['/usr/bin/node /usr/lib/node_modules/mm-mesh/dist/sidecar/mesh/cli.js up /home/me/meshes/mesh.yaml']);
  t.same(setting(unit, 'Restart'), ['on-failure']);
  t.same(setting(unit, 'Environment'), ['MESH_HOME=/home/me/.mesh', 'PATH=/usr/local/bin:/usr/bin:/bin']);
  t.same(setting(unit, 'EnvironmentFile'), ['-/home/me/.mesh/mm-mesh.env'], 'an optional file for MESH_TOKEN, never the token itself');
  t.same(setting(unit, 'WorkingDirectory'), ['/home/me/meshes']);
  t.same(setting(unit, 'KillMode'), ['mixed'], 'SIGTERM to mesh up only: it stops its services in order');
  t.same(setting(unit, 'WantedBy'), ['default.target'], 'started at login');
  t.notMatch(unit, /--detach/, 'the foreground supervisor, not a detached one systemd would lose');
});

t.test('systemd words: spaces quoted, % and $ escaped where systemd expands them', async (t) => {
  t.equal(execWord('/home/me/my meshes/a.yaml'), '"/home/me/my meshes/a.yaml"');
  t.equal(execWord('/srv/100%/$HOME/a"b'), '"/srv/100%%/$$HOME/a\\"b"');
  t.equal(envWord('MESH_HOME=/srv/$x 1%'), '"MESH_HOME=/srv/$x 1%%"', 'no $ expansion in Environment=');
  const unit = systemdUnit({ ...spec, manifest: '/home/me/my meshes/mesh.yaml' });
  t.same(setting(unit, 'ExecStart'), ['/usr/bin/node /usr/lib/node_modules/mm-mesh/dist/sidecar/mesh/cli.js up "/home/me/my meshes/mesh.yaml"']);
});

t.test('launchd agent: the same command, RunAtLoad, KeepAlive unless it exited cleanly, escaped', async (t) => {
  const plist = launchdPlist({ ...spec, manifest: '/Users/me/a&b/mesh.yaml' });
  t.match(plist, /<key>Label<\/key>\s*<string>local\.mm-mesh<\/string>/);
  t.match(plist, /<array>\s*<string>\/usr\/bin\/node<\/string>\s*<string>[^<]+cli\.js<\/string>\s*<string>up<\/string>\s*<string>\/Users\/me\/a&amp;b\/mesh\.yaml<\/string>\s*<\/array>/);
  t.match(plist, /<key>RunAtLoad<\/key>\s*<true\/>/);
  t.match(plist, /<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>/);
  t.match(plist, /<key>MESH_HOME<\/key>\s*<string>\/home\/me\/\.mesh<\/string>/);
  t.notMatch(plist.replace(/&amp;/g, ''), /&/, 'every & escaped');
});
