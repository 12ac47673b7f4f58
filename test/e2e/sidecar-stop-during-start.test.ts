import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixture, spawnNode, waitFor } from '../helpers/processes.js';
import { tempDir } from '../helpers/proxy.js';
import { groupMembers } from '../../src/stdio/process-group.js';

// A stop during a slow first start (the child has not answered initialize yet) must end the
// child's whole process group: no server is left running under PID 1.

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} while the child is still starting leaves no process of its group`, async (t) => {
    const pidFile = join(tempDir(t), 'pids');
    const sidecar = spawnNode('sidecar/cli.js', ['--name', 'slow', '--port', '0', '--no-proxy', '--', 'python3', fixture('never_ready_server.py'), pidFile]);
    t.teardown(() => sidecar.stop('SIGKILL'));
    await waitFor(() => existsSync(pidFile), 'the child started (and its grandchild)');
    const [child, grandchild] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    t.teardown(() => {
      for (const pid of groupMembers(child)) process.kill(pid, 'SIGKILL');
    });
    t.same(groupMembers(child).sort(), [child, grandchild].sort(), 'child and grandchild run in the child group');
    sidecar.proc.kill(signal);
    await waitFor(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 'the sidecar exited');
    await waitFor(() => groupMembers(child).length === 0, 'no process of the child group is left', 5_000).catch(() => undefined);
    t.same(groupMembers(child), [], 'no process of the child group is left (read from /proc; zombies count as gone)');
    t.equal(sidecar.proc.exitCode, 0, 'a requested stop is a clean exit');
  });
}
