import t, { type Test } from 'tap';
import { waitUntil } from '../../src/stdio/process-group.js';
import { runMesh } from '../helpers/mesh-cli.js';
import { fixture, spawnNode, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// mesh status, mesh watch and mesh audit against a real token-protected proxy and a real sidecar
// whose child dies mid-call (tool `die`) and is restarted: the calls, the restart and the status
// changes must show up in all three. Readiness by polling output, never by sleeping.

const TOKEN = 'observe-token';

// A long-running `mesh ARGS` (watch, audit --follow), stopped with Ctrl-C's signal by the test.
function follow(t: Test, args: string[], env: Record<string, string>) {
  const running = spawnNode('sidecar/mesh/cli.js', args, { ...env, NO_COLOR: '1', MESH_PROXY_URL: '' });
  t.teardown(() => running.stop('SIGKILL'));
  return running;
}

t.test('mesh status, watch and audit see calls, a crash, the restart and the errors', async (t) => {
  const proxy = await startProxy(t, { token: TOKEN });
  await startSidecar(t, { name: 'dier', command: ['python3', fixture('die_mid_call_server.py')], proxy: proxy.base, token: TOKEN });
  const env = { MESH_TOKEN: TOKEN };
  const at = ['--proxy', proxy.base];
  await waitFor(async () => (await runMesh(['status', '--json', ...at], { env })).stdout.includes('"healthy"'), 'dier is healthy on the proxy', 20_000);

  const watch = follow(t, ['watch', '--calls', ...at], env);
  const audit = follow(t, ['audit', '--follow', '--json', '--service', 'dier', ...at], env);
  await waitFor(() => watch.stderr().includes('watching the mesh-proxy'), 'mesh watch is connected', 20_000);
  // audit --follow opens its stream before it reads the history: once the history (none) is printed it is live.
  await waitFor(async () => (await fetch(`${proxy.base}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).ok, 'proxy up');

  const echo = await runMesh(['call', 'dier', 'echo', 'text=hello', ...at], { env });
  t.equal(echo.code, 0, echo.stderr);
  const die = await runMesh(['call', 'dier', 'die', ...at], { env });
  t.not(die.code, 0, 'the call whose child died fails');

  await waitFor(() => /call\s+mesh-cli → dier\.echo ok .* B → \d+ B/.test(watch.stdout()), `watch shows the echo call\n${watch.stdout()}`, 20_000);
  await waitFor(() => /call\s+mesh-cli → dier\.die error/.test(watch.stdout()), `watch shows the failed call\n${watch.stdout()}`, 20_000);
  await waitFor(() => /status\s+dier \S+ healthy → restarting \(heartbeat\)/.test(watch.stdout()), `watch shows the restart\n${watch.stdout()}`, 20_000);
  await waitFor(() => /restarting → healthy/.test(watch.stdout()), `watch shows it healthy again\n${watch.stdout()}`, 20_000);

  await waitFor(
    () =>
      audit
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{')).length >= 2,
    `audit --follow printed both calls\n${audit.stdout()}`,
    20_000,
  );
  const followed = audit
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  t.match(followed, [
    { service: 'dier', tool: 'echo', outcome: 'ok', caller: 'mesh-cli', hops: 0, requestBytes: Buffer.byteLength('{"text":"hello"}') },
    { service: 'dier', tool: 'die', outcome: 'error' },
  ]);
  t.type(followed[0].responseBytes, 'number', 'the result size is recorded');
  t.type(followed[0].id, 'number');

  // Ctrl-C ends both cleanly.
  for (const running of [watch, audit]) {
    running.proc.kill('SIGINT');
    t.ok(await waitUntil(() => running.proc.exitCode !== null || running.proc.signalCode !== null, 10_000), 'ended on SIGINT');
    t.equal(running.proc.exitCode, 0, `exit 0 after Ctrl-C\n${running.stderr()}`);
  }

  // The restart reaches the proxy with the sidecar's next beat (sent at once on the state change).
  await waitFor(async () => /"restarts": 1/.test((await runMesh(['status', '--json', ...at], { env })).stdout), 'status --json shows the restart', 20_000);
  const status = await runMesh(['status', ...at], { env });
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, new RegExp(`proxy ${proxy.base}: 1 services, 1 healthy, 2 calls in the last minute`));
  t.match(status.stdout, /SERVICE\s+STATUS\s+INSTANCES\s+CALLS\/MIN\s+P95\s+ERRORS\s+IN FLIGHT\s+RESTARTS\s+LAST ERROR/);
  t.match(status.stdout, /dier\s+healthy\s+1\/1\s+2\s+\S+ m?s\s+50%\s+0\s+1\s+\d+s ago: \w+/, 'two calls, one error, one restart, the last error');

  const errors = await runMesh(['audit', '--service', 'dier', '--errors', '--since', '10m', ...at], { env });
  t.equal(errors.code, 0, errors.stderr);
  t.match(errors.stdout, /TIME\s+CALLER\s+SERVICE\s+TOOL\s+OUTCOME\s+DURATION\s+IN\s+OUT\s+HOPS\s+ERROR/);
  t.match(errors.stdout, /mesh-cli\s+dier\s+die\s+error/);
  t.notMatch(errors.stdout, /\becho\b/, '--errors leaves the ok call out');
  const json = JSON.parse((await runMesh(['audit', '--tool', 'echo', '--json', ...at], { env })).stdout);
  t.match(json.entries, [{ tool: 'echo', outcome: 'ok' }]);
  t.equal(json.entries.length, 1);

  const badSince = await runMesh(['audit', '--since', 'yesterday', ...at], { env });
  t.equal(badSince.code, 2);
  t.match(badSince.stderr, /--since: "yesterday" is neither a time in ms since epoch nor a duration like 30s, 10m, 2h, 1d/);
  const ghost = await runMesh(['audit', '--service', 'ghost', ...at], { env });
  t.equal(ghost.code, 0);
  t.match(ghost.stdout, /no calls recorded for service "ghost", and no service of that name is registered \(registered: dier\)/);
  const noToken = await runMesh(['status', ...at], { env: { MESH_TOKEN: '' } });
  t.equal(noToken.code, 2);
  t.match(noToken.stderr, /requires a bearer token/, 'without MESH_TOKEN the proxy refuses, and the message says why');
  const watchNoToken = await runMesh(['watch', ...at], { env: { MESH_TOKEN: 'wrong' } });
  t.equal(watchNoToken.code, 2);
  t.match(watchNoToken.stderr, /bearer token is wrong/);
});
