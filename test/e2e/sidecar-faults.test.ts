import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import t, { type Test } from 'tap';
import { fixture, freePort, liveChildren, pollJson, spawnNode, waitFor } from '../helpers/processes.js';
import { connectListeningClient } from '../helpers/listening-client.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';
import { groupMembers, waitUntil } from '../../src/stdio/process-group.js';

// One real sidecar per misbehaving fixture: each fault is observed from outside (healthz, the wire, /proc).

type Content = { type: string; text: string }[];
const textOf = (result: unknown) => (result as { content: Content }).content.map((c) => c.text).join('\n');

/** The state letter of a process from /proc (R, S, Z...), or undefined when there is no such process. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
/** Gone means no process, or a zombie that only waits for its (new) parent to reap it. */
const gone = (pid: number) => {
  const state = procState(pid);
  return state === undefined || state === 'Z';
};

t.test('hang: the deadline fails the call in about a second and the child is told to cancel', async (t) => {
  const sidecar = await startSidecar(t, { name: 'hang', command: ['python3', fixture('hang_server.py')], extra: ['--deadline', '1'] });
  const client = await connectClient(t, sidecar.url);
  const started = Date.now();
  const error = await client.callTool({ name: 'hang', arguments: {} }).catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  t.match(error, { code: -32001, message: /hang: tool "hang" did not answer within 1000 ms \(cancelled\)/ });
  // Bounds, not timings: not before the deadline, and not hanging (the tool never answers).
  t.ok(elapsed >= 900 && elapsed < 15_000, `failed after ${elapsed} ms`);
  const ids = JSON.parse(textOf(await client.callTool({ name: 'cancelled_ids', arguments: {} })));
  t.equal(ids.length, 1, `cancelled_ids ${JSON.stringify(ids)}`);
  t.type(ids[0], 'number', 'the child got the id it was sent');
  const health = await sidecar.health();
  t.equal(health.calls.timeouts, 1);
  t.equal(health.inflight, 0);
  t.equal(health.state, 'ready', 'a slow tool is not a dead server');
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } })), 'still here');
});

t.test('noisy: junk lines on stdout are counted, calls still work', async (t) => {
  const sidecar = await startSidecar(t, { name: 'noisy', command: ['python3', fixture('noisy_server.py')] });
  const before = (await sidecar.health()).junkLines;
  t.ok(before > 0, `junk at start counted (${before})`);
  const client = await connectClient(t, sidecar.url);
  for (let i = 0; i < 3; i++) t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: `through the noise ${i}` } })), `through the noise ${i}`);
  const after = await sidecar.health();
  t.ok(after.junkLines >= before + 9, `3 junk lines before each of the 3 answers (${before} → ${after.junkLines})`);
  t.equal(after.state, 'ready');
  t.equal(after.restarts, 0, 'junk is never fatal');
});

t.test('crash on start: the sidecar stays up, restarting then crashloop, never ready', async (t) => {
  const states: string[] = [];
  const sidecar = await startSidecar(t, {
    name: 'crashy',
    command: ['python3', fixture('crash_on_start.py')],
    extra: ['--backoff', '50-400'],
    waitFor: (health) => (states.push(health.state), health.state === 'restarting'),
  });
  const base = sidecar.base;
  const final = await pollJson(
    `${base}/healthz`,
    (status, health) => {
      states.push(health.state);
      if (health.state === 'crashloop') t.equal(status, 503, 'crashloop is not healthy');
      return health.state === 'crashloop';
    },
    90_000,
  );
  t.notOk(states.includes('ready'), 'never ready');
  t.ok(states.indexOf('restarting') < states.indexOf('crashloop'), 'restarting before crashloop');
  t.match(final.lastExit, { code: 3, signal: null, description: 'exited with code 3' });
  t.match(final.lastExit.stderrTail, 'fatal: could not open config /nonexistent/app.toml');
  t.ok(final.restarts >= 5, `restarts ${final.restarts}`);
  t.equal(final.pid, undefined, 'no child pid while none runs');
  t.equal(final.tools, 0);
  // The sidecar itself answers: /healthz, and MCP clients get a clear error instead of a hang.
  const refused = await connectClient(t, sidecar.url).catch((e: unknown) => e);
  t.match(refused, { message: /crashy: the server is crashloop.*exited with code 3.*fatal: could not open config/ });
  t.equal(sidecar.proc.exitCode, null, 'the sidecar process is still running');
});

t.test('die mid-call: the call fails at once with the exit code and stderr, the child is restarted', async (t) => {
  const sidecar = await startSidecar(t, { name: 'die', command: ['python3', fixture('die_mid_call_server.py')] });
  const client = await connectClient(t, sidecar.url);
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } })), 'before');
  const firstPid = (await sidecar.health()).pid;
  t.type(firstPid, 'number');
  const started = Date.now();
  const error = await client.callTool({ name: 'die', arguments: { code: 7 } }, { timeout: 120_000 }).catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  // At once, not at the 60 s deadline (a bound far from both, so a loaded machine cannot flake it).
  t.ok(elapsed < 30_000, `failed after ${elapsed} ms, not at the deadline`);
  t.match(error, { code: -32000, message: /die: the server exited with code 7 while handling tool "die"/ });
  t.match(error, { message: /dying: simulated crash/ }, 'the message quotes the stderr tail');
  const health = await pollJson(`${sidecar.base}/healthz`, (status, h) => status === 200 && h.state === 'ready' && h.restarts >= 1);
  t.not(health.pid, firstPid, 'a new child');
  t.match(health.lastExit, { code: 7, description: 'exited with code 7' });
  t.match(health.lastExit.stderrTail, 'dying: simulated crash');
  t.ok(gone(firstPid), 'the old child is gone');
  t.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } })), 'after', 'the same client session works again');
});

t.test('stubborn: SIGTERM to the sidecar ends the child and its grandchild, no orphan', async (t) => {
  const sidecar = await startSidecar(t, { name: 'stubborn', command: ['python3', fixture('stubborn_server.py')] });
  const client = await connectClient(t, sidecar.url);
  const grandchild = Number(textOf(await client.callTool({ name: 'grandchild_pid', arguments: {} })));
  const child = (await sidecar.health()).pid as number;
  t.ok(grandchild > 0 && child > 0, `child ${child}, grandchild ${grandchild}`);
  t.notOk(gone(child), 'child alive before');
  t.notOk(gone(grandchild), 'grandchild alive before');
  await client.close();
  const started = Date.now();
  sidecar.proc.kill('SIGTERM');
  const exited = await waitUntil(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 15_000);
  t.ok(exited, `the sidecar exited (after ${Date.now() - started} ms)`);
  t.equal(sidecar.proc.exitCode, 0, 'a clean exit');
  t.ok(gone(child), `child ${child} gone (state ${procState(child) ?? 'none'})`);
  t.ok(gone(grandchild), `grandchild ${grandchild} gone (state ${procState(grandchild) ?? 'none'})`);
});

// The second signal exits at once; the child's group is its own, so it is SIGKILLed first (a child that
// ignores SIGTERM and stdin EOF would otherwise be left under PID 1, with its grandchild).
t.test("stubborn: a second SIGTERM while the sidecar stops kills the child's group and exits at once", async (t) => {
  const sidecar = await startSidecar(t, { name: 'stubborn', command: ['python3', fixture('stubborn_server.py')] });
  const client = await connectClient(t, sidecar.url);
  const grandchild = Number(textOf(await client.callTool({ name: 'grandchild_pid', arguments: {} })));
  const child = (await sidecar.health()).pid as number;
  t.teardown(() => {
    for (const pid of groupMembers(child)) process.kill(pid, 'SIGKILL');
  });
  await client.close();
  sidecar.proc.kill('SIGTERM');
  await waitFor(() => sidecar.stderr().includes('SIGTERM: stopping'), 'the sidecar began its graceful stop');
  sidecar.proc.kill('SIGTERM');
  await waitFor(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 'the sidecar exited');
  t.equal(sidecar.proc.exitCode, 143, '128 + SIGTERM: stopped at once');
  await waitFor(() => gone(child) && gone(grandchild), 'child and grandchild gone', 5_000).catch(() => undefined);
  t.ok(gone(child), `child ${child} gone (state ${procState(child) ?? 'none'})`);
  t.ok(gone(grandchild), `grandchild ${grandchild} gone (state ${procState(grandchild) ?? 'none'})`);
});

t.test('list_changed: a tool added at runtime reaches healthz and connected clients', async (t) => {
  const sidecar = await startSidecar(t, { name: 'echo', command: ['python3', fixture('echo_server.py')] });
  const before = await sidecar.health();
  const listener = await connectListeningClient(t, sidecar.url);
  let notified!: () => void;
  const notification = new Promise<void>((resolve) => (notified = resolve));
  listener.setNotificationHandler('notifications/tools/list_changed', () => notified());
  const caller = await connectClient(t, sidecar.url);
  t.equal(textOf(await caller.callTool({ name: 'add_tool', arguments: { name: 'shout' } })), 'added shout');
  await notification;
  t.pass('the other client got notifications/tools/list_changed');
  const after = await pollJson(`${sidecar.base}/healthz`, (_, h) => h.tools > before.tools);
  t.equal(after.tools, before.tools + 1);
  t.not(after.toolsHash, before.toolsHash);
  const { tools } = await listener.listTools();
  t.ok(
    tools.some((tool) => tool.name === 'shout'),
    'listed',
  );
  t.equal(textOf(await listener.callTool({ name: 'shout', arguments: { text: 'new tool' } })), 'new tool');
});

/** Two consecutive loopback ports, both bound by this test (so the range is certainly busy). */
async function occupyTwoPorts(t: Test): Promise<[number, number]> {
  const listen = (port: number) =>
    new Promise<Server | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    const port = (first!.address() as { port: number }).port;
    const second = port < 65_535 ? await listen(port + 1) : undefined;
    if (second) {
      t.teardown(() => Promise.all([first, second].map((s) => new Promise((r) => s!.close(r)))));
      return [port, port + 1];
    }
    await new Promise((r) => first!.close(r));
  }
  throw new Error('could not occupy two consecutive ports');
}

t.test('all ports of the range busy: exit code 3 naming the range, no retrying forever, child stopped', async (t) => {
  const [from, to] = await occupyTwoPorts(t);
  const sidecar = spawnNode('sidecar/cli.js', ['--name', 'busy', '--port-range', `${from}-${to}`, '--', 'python3', fixture('echo_server.py')]);
  t.teardown(() => sidecar.stop());
  // A bound, not a timing claim: a sidecar that kept waiting for a port would never exit.
  const exited = await waitUntil(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 30_000);
  t.ok(exited, 'the sidecar exited instead of waiting for a port');
  t.equal(sidecar.proc.exitCode, 3);
  t.match(sidecar.stderr(), `no free port in ${from}-${to}`);
  t.equal(sidecar.stdout(), '', 'no ready line');
  const childPid = Number(/child pid (\d+) ready/.exec(sidecar.stderr())?.[1]);
  t.ok(childPid > 0, 'the child had been started');
  t.ok(gone(childPid), 'and is stopped before the sidecar exits');
});

t.test('mesh restart while the child is still starting: one child afterwards, no crash counted, none left after stop', async (t) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const sidecar = spawnNode('sidecar/cli.js', ['--name', 'slow', '--port', String(port), '--no-proxy', '--backoff', '100-1000', '--', 'python3', fixture('slow_start_server.py'), '1.5'], {
    MESH_CONTROL_TOKEN: 'ctl',
  });
  t.teardown(() => sidecar.stop('SIGKILL'));
  const seen = new Set<number>();
  t.teardown(() => {
    for (const pgid of seen) for (const pid of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
  });
  const sidecarPid = sidecar.proc.pid!;
  const first = await pollJson(`${base}/healthz`, (status, h) => status === 200 && h.state === 'ready');
  seen.add(first.pid);
  process.kill(first.pid, 'SIGKILL'); // one crash: the backoff starts a new child, slow to initialize
  const starting = await pollJson(`${base}/healthz`, (_, h) => h.state === 'restarting' && typeof h.pid === 'number' && h.pid !== first.pid);
  seen.add(starting.pid);
  const restart = await fetch(`${base}/control/restart`, { method: 'POST', headers: { authorization: 'Bearer ctl' } });
  const answer = (await restart.json()) as { state: string; pid: number };
  t.equal(restart.status, 200, `the restart answers once the new child is ready: ${JSON.stringify(answer)}`);
  for (const pid of liveChildren(sidecarPid)) seen.add(pid);
  const health = await pollJson(`${base}/healthz`, (_, h) => h.state === 'ready');
  t.same(liveChildren(sidecarPid), [health.pid], 'exactly one child of the sidecar is alive: the one it serves');
  t.not(health.pid, starting.pid, 'the child that was starting was replaced');
  t.equal(health.crashes, 1, 'only the SIGKILL counts as a crash, not the planned restart');
  t.equal(health.restarts, 2, 'one restart after the crash, one planned');
  sidecar.proc.kill('SIGTERM');
  await waitFor(() => sidecar.proc.exitCode !== null || sidecar.proc.signalCode !== null, 'the sidecar exited', 15_000);
  await waitFor(() => [...seen].every((pgid) => groupMembers(pgid).length === 0), 'no process of any child group is left', 5_000).catch(() => undefined);
  t.same(
    [...seen].flatMap((pgid) => groupMembers(pgid)),
    [],
    `no process of the child groups ${[...seen].join(', ')} is left (read from /proc)`,
  );
});
