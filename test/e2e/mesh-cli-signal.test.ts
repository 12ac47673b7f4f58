import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { waitUntil } from '../../src/stdio/process-group.js';
import { processesNaming, writeManifest } from '../helpers/mesh-cli.js';
import { freePort, root, spawnNode } from '../helpers/processes.js';

// A foreground `mesh up FILE` with its own MESH_HOME; torn down with whatever it left running
// (a second signal exits at once and leaves things behind on purpose).
function foregroundUp(t: Test, dir: string, file: string) {
  const up = spawnNode('sidecar/mesh/cli.js', ['up', file], { MESH_HOME: join(dir, 'home'), MESH_PROXY_URL: '', NO_COLOR: '1' });
  t.teardown(async () => {
    await up.stop('SIGKILL');
    for (const leftover of processesNaming(dir)) process.kill(leftover.pid, 'SIGKILL');
  });
  return up;
}

// A signal that reaches a foreground `mesh up` while it is still starting (waiting for the proxy
// it launched) must stop everything: no proxy or service may be left running.
for (const moment of ['state.json', 'logs/proxy.log'] as const) {
  t.test(`SIGTERM to mesh up once ${moment} appears leaves no process`, async (t) => {
    const dir = t.testdir({ home: {} });
    const proxyPort = await freePort();
    const file = writeManifest(
      dir,
      proxyPort,
      `  fs:
    command: python3
    args: [${root}examples/fs_server.py, --root, ${root}examples/texts]
`,
    );
    const up = foregroundUp(t, dir, file);
    const runs = join(dir, 'home', 'runs');
    const seen = await waitUntil(() => existsSync(runs) && readdirSync(runs).some((run) => existsSync(join(runs, run, moment))), 20_000, 5);
    t.ok(seen, `mesh up wrote ${moment}\n${up.stderr()}`);
    up.proc.kill('SIGTERM');
    const exited = await waitUntil(() => up.proc.exitCode !== null || up.proc.signalCode !== null, 40_000);
    t.ok(exited, `mesh up ended after SIGTERM\n${up.stdout()}\n${up.stderr()}`);
    t.equal(up.proc.exitCode, 0, `a clean stop\n${up.stderr()}`);
    t.same(processesNaming(dir), [], 'no process names the test folder (proxy and services inherit MESH_HOME)');
  });
}

// A second signal while stopping exits at once, with the shell's code for that signal (128 + 15).
// The service ignores SIGTERM, so the first stop surely lasts (up to its 10 s grace).
t.test('a second SIGTERM while stopping exits 143', async (t) => {
  const dir = t.testdir({ home: {} });
  const file = writeManifest(
    dir,
    await freePort(),
    `  stubborn:
    kind: native
    command: python3
    args: ['-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)']
`,
  );
  const up = foregroundUp(t, dir, file);
  const runs = join(dir, 'home', 'runs');
  const spawned = () => {
    try {
      const [run] = readdirSync(runs);
      const state = JSON.parse(readFileSync(join(runs, run ?? '', 'state.json'), 'utf8')) as { services: Record<string, { instances: { process?: unknown }[] }> };
      return state.services.stubborn?.instances[0]?.process !== undefined;
    } catch {
      return false; // not written yet
    }
  };
  t.ok(await waitUntil(spawned, 30_000), `mesh up started the service\n${up.stdout()}\n${up.stderr()}`);
  up.proc.kill('SIGTERM');
  t.ok(await waitUntil(() => up.stdout().includes('stopping the services'), 10_000), 'the first SIGTERM starts stopping');
  up.proc.kill('SIGTERM');
  t.ok(await waitUntil(() => up.proc.exitCode !== null || up.proc.signalCode !== null, 5_000), 'mesh up ended at once');
  t.equal(up.proc.exitCode, 143, `exit code 128 + SIGTERM\n${up.stderr()}`);
  t.match(up.stderr(), /second SIGTERM: exiting now/);
});
