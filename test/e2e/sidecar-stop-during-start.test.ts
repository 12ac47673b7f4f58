import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { fixture, liveChildren, spawnNode, waitFor } from '../helpers/processes.js';
import { tempDir } from '../helpers/proxy.js';
import { groupMembers } from '../../src/stdio/process-group.js';

// A stop during a slow first start (the child has not answered initialize yet) must end the
// child's whole process group: no server is left running under PID 1.

// A sidecar whose child (and its grandchild, in the child's process group) never answers initialize.
async function startNeverReady(t: Test): Promise<{ sidecar: ReturnType<typeof spawnNode>; child: number }> {
  const pidFile = join(tempDir(t), 'pids');
  const sidecar = spawnNode('sidecar/cli.js', ['--name', 'slow', '--port', '0', '--no-proxy', '--', 'python3', fixture('never_ready_server.py'), pidFile]);
  t.teardown(() => sidecar.stop('SIGKILL'));
  await waitFor(() => existsSync(pidFile), 'the child started (and its grandchild)');
  const [child, grandchild] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) as [number, number];
  t.teardown(() => {
    for (const pid of groupMembers(child)) process.kill(pid, 'SIGKILL');
  });
  t.same(groupMembers(child).sort(), [child, grandchild].sort(), 'child and grandchild run in the child group');
  return { sidecar, child };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} while the child is still starting leaves no process of its group`, async (t) => {
    const { sidecar, child } = await startNeverReady(t);
    sidecar.proc.kill(signal);
    await waitFor(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 'the sidecar exited');
    await waitFor(() => groupMembers(child).length === 0, 'no process of the child group is left', 5_000).catch(() => undefined);
    t.same(groupMembers(child), [], 'no process of the child group is left (read from /proc; zombies count as gone)');
    t.equal(sidecar.proc.exitCode, 0, 'a requested stop is a clean exit');
  });
}

// The second signal exits at once (128 + signo): the child's own process group is SIGKILLed first,
// or the child and its grandchild would be left running under PID 1.
t.test('a second SIGTERM while the child is still starting: exit at once, nothing of its group left', async (t) => {
  const { sidecar, child } = await startNeverReady(t);
  sidecar.proc.kill('SIGTERM');
  // The first stop is under way (stdin closed; SIGTERM to the group only after a 2 s grace).
  await waitFor(() => sidecar.stderr().includes('while the server is starting: stopping it'), 'the sidecar began stopping the child');
  sidecar.proc.kill('SIGTERM');
  await waitFor(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 'the sidecar exited');
  t.equal(sidecar.proc.exitCode, 143, 'the second signal exits at once with 128 + SIGTERM');
  await waitFor(() => groupMembers(child).length === 0, 'no process of the child group is left', 5_000).catch(() => undefined);
  t.same(groupMembers(child), [], 'no process of the child group is left (read from /proc; zombies count as gone)');
});

// The child answers tools/list and at once sends SIGTERM to the sidecar: node reads that answer
// first, runs the start on to the lookup of --host localhost (the thread pool: an event-loop turn),
// then takes the signal, after the child is ready but before startSidecar returned. It must stop.
t.test('a SIGTERM as the start completes stops the sidecar and its child', async (t) => {
  const sidecar = spawnNode('sidecar/cli.js', [
    '--name',
    'quick',
    '--host',
    'localhost',
    '--port',
    '0',
    '--no-proxy',
    '--',
    'python3',
    fixture('slow_start_server.py'),
    '0',
    '--term-parent-after-tools-list',
  ]);
  t.teardown(() => sidecar.stop('SIGKILL'));
  const children = new Set<number>();
  const sidecarPid = sidecar.proc.pid!;
  await waitFor(
    () => {
      for (const pid of liveChildren(sidecarPid)) children.add(pid);
      return sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null;
    },
    `the sidecar exited; stderr:\n${sidecar.stderr()}`,
    8_000,
  ).catch((error: Error) => t.fail(`${error.message}\n${sidecar.stderr()}`));
  t.equal(sidecar.proc.exitCode, 0, 'a requested stop is a clean exit');
  t.ok(children.size > 0, 'the child was seen');
  t.teardown(() => {
    for (const pgid of children) for (const pid of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
  });
  await waitFor(() => [...children].every((pgid) => groupMembers(pgid).length === 0), 'no child group left', 5_000).catch(() => undefined);
  t.same(
    [...children].flatMap((pgid) => groupMembers(pgid)),
    [],
    'no process of the child group is left',
  );
});
