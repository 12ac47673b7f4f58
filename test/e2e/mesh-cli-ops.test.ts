import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { waitUntil } from '../../src/stdio/process-group.js';
import { fixture, freePort, pollJson, spawnNode, waitFor } from '../helpers/processes.js';
import { pidAlive, processesNaming, runMesh, tearDownMeshes } from '../helpers/mesh-cli.js';

// Everyday operations of `mesh up`: a killed proxy comes back, meshes of several manifests share
// one proxy, a changed manifest is applied to a running mesh, `mesh restart SERVICE`.

interface State {
  supervisor: { pid: number };
  phase: string;
  proxy: { started: boolean; joined?: boolean; restarts?: number; process?: { pid: number } };
  services: Record<string, { status: string; instances: { process?: { pid: number }; child?: { pid: number }; url?: string }[] }>;
}

function echoService(name: string, extra = ''): string {
  return `  ${name}:\n    command: python3\n    args: [${fixture('echo_server.py')}]\n${extra}`;
}

/** A manifest in DIR (no registry: the default one under MESH_HOME) with the given services. */
function manifest(dir: string, proxyPort: number, services: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, `version: 1\nproxy: { port: ${proxyPort}, mcpPort: 0 }\nservices:\n${services}`);
  return file;
}

/** The state file of the run of `file` (its run folder's name starts with the manifest's name). */
function stateOf(home: string, folder: string): State {
  const runs = join(home, 'runs');
  const matching = readdirSync(runs).filter((name) => existsSync(join(runs, name, 'state.json')) && JSON.parse(readFileSync(join(runs, name, 'state.json'), 'utf8')).manifest.includes(folder));
  if (matching.length !== 1) throw new Error(`expected one run of ${folder}, found ${matching.join(', ')}`);
  return JSON.parse(readFileSync(join(runs, matching[0]!, 'state.json'), 'utf8')) as State;
}

// A test's folder with its own MESH_HOME, and a free port for its proxy.
async function meshPlace(t: Test): Promise<{ dir: string; home: string; env: { MESH_HOME: string }; proxyPort: number; proxyUrl: string }> {
  const dir = t.testdir({ home: {} });
  const home = join(dir, 'home');
  const proxyPort = await freePort();
  return { dir, home, env: { MESH_HOME: home }, proxyPort, proxyUrl: `http://127.0.0.1:${proxyPort}` };
}

async function services(proxyUrl: string): Promise<{ name: string; status: string; instances: { status: string }[] }[]> {
  const response = await fetch(`${proxyUrl}/v1/services`);
  return ((await response.json()) as { services: { name: string; status: string; instances: { status: string }[] }[] }).services;
}

t.test('up --detach: a proxy killed with SIGKILL is started again and the services reappear', async (t) => {
  const { dir, home, env, proxyPort, proxyUrl } = await meshPlace(t);
  const file = manifest(join(dir, 'a'), proxyPort, echoService('echo'));
  tearDownMeshes(t, dir, env, () => [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const before = stateOf(home, join(dir, 'a'));
  const proxyPid = before.proxy.process?.pid;
  t.ok(proxyPid, 'the run recorded the proxy it started');
  process.kill(proxyPid!, 'SIGKILL');
  await waitFor(() => !pidAlive(proxyPid!), 'the proxy died');

  await pollJson(`${proxyUrl}/healthz`, (status) => status === 200, 60_000);
  await waitFor(async () => (await services(proxyUrl).catch(() => [])).some((s) => s.name === 'echo' && s.status === 'healthy'), 'echo is registered and healthy again', 60_000);
  // The supervisor records the new proxy on its next tick, which may come after echo re-registered.
  await waitFor(() => stateOf(home, join(dir, 'a')).proxy.process?.pid !== proxyPid, 'the run recorded the new proxy');
  const after = stateOf(home, join(dir, 'a'));
  t.not(after.proxy.process?.pid, proxyPid, 'a new proxy process');
  t.ok(pidAlive(after.proxy.process!.pid), 'recorded and alive');
  t.equal(after.proxy.restarts, 1, 'the restart is counted');
  const call = await runMesh(['call', '-f', file, 'echo', 'echo', 'text=back'], { env });
  t.equal(call.code, 0, call.stderr);
  t.match(call.stdout, /back/);
  const again = await runMesh(['up', file], { env });
  t.match(again.stdout, /applied the manifest: nothing changed/, 'a second up finds the run (no "already running" with a dead proxy)');

  const down = await runMesh(['down', file], { env });
  t.equal(down.code, 0, down.stderr);
  t.notOk(pidAlive(after.proxy.process!.pid), 'down stops the restarted proxy');
});

t.test('foreground up: a killed proxy is started again; Ctrl-C stops the new one', async (t) => {
  const { dir, home, proxyPort, proxyUrl } = await meshPlace(t);
  const file = manifest(join(dir, 'a'), proxyPort, echoService('echo'));
  const up = spawnNode('sidecar/mesh/cli.js', ['up', file], { MESH_HOME: home, MESH_PROXY_URL: '', NO_COLOR: '1' });
  tearDownMeshes(t, dir, { MESH_HOME: home }, []);
  t.teardown(() => up.stop('SIGKILL'));
  const running = () => {
    try {
      return stateOf(home, join(dir, 'a')).phase === 'running';
    } catch {
      return false; // not written yet
    }
  };
  t.ok(await waitUntil(running, 60_000, 50), `the foreground mesh is running\n${up.stdout()}\n${up.stderr()}`);
  const proxyPid = stateOf(home, join(dir, 'a')).proxy.process!.pid;
  process.kill(proxyPid, 'SIGKILL');
  await waitFor(() => !pidAlive(proxyPid), 'the proxy died');
  await pollJson(`${proxyUrl}/healthz`, (status) => status === 200, 60_000);
  await waitFor(() => stateOf(home, join(dir, 'a')).proxy.process?.pid !== proxyPid, 'the new proxy is recorded', 20_000);
  const newPid = stateOf(home, join(dir, 'a')).proxy.process!.pid;
  t.ok(pidAlive(newPid), 'a new proxy process');
  await waitFor(() => up.stderr().includes('had died; started it again'), 'up says the proxy was started again');
  up.proc.kill('SIGINT');
  t.ok(await waitUntil(() => up.proc.exitCode !== null, 40_000), 'mesh up ended after SIGINT');
  t.equal(up.proc.exitCode, 0, up.stderr());
  t.notOk(pidAlive(newPid), 'the restarted proxy was stopped with the mesh');
  t.same(processesNaming(dir), [], 'nothing left running');
});

t.test('two manifests on one proxy: shared, a duplicate service refused, the last down stops it', async (t) => {
  const { dir, home, env, proxyPort, proxyUrl } = await meshPlace(t);
  const fileA = manifest(join(dir, 'a'), proxyPort, echoService('alpha'));
  const fileB = manifest(join(dir, 'b'), proxyPort, echoService('beta'));
  const fileC = manifest(join(dir, 'c'), proxyPort, echoService('alpha'));
  tearDownMeshes(t, dir, env, () => [fileC, fileB, fileA, join(dir, 'd', 'mesh.yaml')]);

  const upA = await runMesh(['up', fileA, '--detach'], { env });
  t.equal(upA.code, 0, upA.stderr);
  // The registry file is written within its coalescing delay of the first registration.
  await waitFor(() => existsSync(join(home, `registry-${proxyPort}.sqlite`)), 'the default registry file is per proxy port', 10_000);
  t.pass('the default registry file is per proxy port');
  const upB = await runMesh(['up', fileB, '--detach'], { env });
  t.equal(upB.code, 0, upB.stderr);
  t.match(upB.stdout, /using the mesh-proxy another `mesh up` started/);
  const proxyPid = stateOf(home, join(dir, 'a')).proxy.process!.pid;
  t.equal(stateOf(home, join(dir, 'b')).proxy.process?.pid, proxyPid, 'B records the shared proxy');

  const upC = await runMesh(['up', fileC, '--detach'], { env });
  t.equal(upC.code, 1, 'the same service name from another manifest is refused');
  t.match(upC.stderr, new RegExp(`"alpha" \\(already run by the mesh of ${join(dir, 'a', 'mesh.yaml').replace(/[.]/g, '\\.')}\\).*--share`));
  t.same(processesNaming(join(dir, 'c')), [], 'nothing of C was started');

  // A mesh on another port: its own proxy and registry file; its down leaves the first proxy alone.
  const otherPort = await freePort();
  const fileD = manifest(join(dir, 'd'), otherPort, echoService('delta'));
  const upD = await runMesh(['up', fileD, '--detach'], { env });
  t.equal(upD.code, 0, upD.stderr);
  // Registry writes are coalesced: the file appears shortly after delta registered.
  await waitFor(() => existsSync(join(home, `registry-${otherPort}.sqlite`)), 'the other port has its own registry file');
  const otherProxy = stateOf(home, join(dir, 'd')).proxy.process!.pid;
  t.not(otherProxy, proxyPid, 'its own proxy');
  t.equal((await runMesh(['down', fileD], { env })).code, 0);
  t.notOk(pidAlive(otherProxy), 'down D stops its proxy');
  t.ok(pidAlive(proxyPid), 'and leaves the proxy of A and B running');

  const downA = await runMesh(['down', fileA], { env });
  t.equal(downA.code, 0, downA.stderr);
  t.match(downA.stdout, /keeps running for .*b\/mesh\.yaml/);
  t.ok(pidAlive(proxyPid), 'the proxy B uses is still running');
  const listed = await services(proxyUrl);
  t.ok(
    listed.some((s) => s.name === 'beta'),
    'beta still registered',
  );
  t.notOk(
    listed.some((s) => s.name === 'alpha'),
    'alpha deregistered',
  );
  const ls = await runMesh(['call', '-f', fileB, 'beta', 'echo', 'text=still'], { env });
  t.equal(ls.code, 0, `B works after down A\n${ls.stderr}`);

  const downB = await runMesh(['down', fileB], { env });
  t.equal(downB.code, 0, downB.stderr);
  t.match(downB.stdout, /and the mesh-proxy it started/);
  await waitFor(() => !pidAlive(proxyPid), 'the last down stopped the proxy');
});

t.test('up of a changed manifest on a running mesh applies the difference', async (t) => {
  const { dir, home, env, proxyPort, proxyUrl } = await meshPlace(t);
  const folder = join(dir, 'm');
  // `late` is not started at first: its folder is missing (created before the second up).
  const late = echoService('late', '    cwd: ./late-dir\n');
  const file = manifest(folder, proxyPort, echoService('a') + echoService('b') + echoService('d') + late);
  tearDownMeshes(t, dir, env, () => [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 1, `late failed, the others started\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, /late\s+failed\s+not started: cwd/);
  const v1 = stateOf(home, folder);
  const pidsOf = (state: State, name: string) => state.services[name]!.instances.flatMap((i) => [i.process?.pid, i.child?.pid]).filter((p): p is number => p !== undefined);
  const [a, b, d] = [pidsOf(v1, 'a'), pidsOf(v1, 'b'), pidsOf(v1, 'd')];
  t.equal(a.length + b.length + d.length, 6, 'sidecar and server pids recorded');

  manifest(folder, proxyPort, echoService('b', '    env: { VERSION: "2" }\n') + echoService('c') + echoService('d') + late);
  mkdirSync(join(folder, 'late-dir'));
  const apply = await runMesh(['up', file], { env });
  t.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
  t.match(apply.stdout, /applied the manifest: 4 services changed/);
  t.match(apply.stdout, /~ late\s+restarted \(healthy\)/, 'an unchanged service that was not running is started');
  t.match(apply.stdout, /~ b\s+restarted \(healthy\)/);
  t.match(apply.stdout, /\+ c\s+started \(healthy\)/);
  t.match(apply.stdout, /= d\s+unchanged/);
  t.match(apply.stdout, /- a\s+stopped/);

  const v2 = stateOf(home, folder);
  // a and b share the sidecar host with d and c (it keeps running): their servers are what stops.
  const childOf = (state: State, name: string) => state.services[name]!.instances.flatMap((i) => (i.child === undefined ? [] : [i.child.pid]));
  t.same(childOf(v1, 'a').filter(pidAlive), [], 'no process of a is left');
  t.same(childOf(v1, 'b').filter(pidAlive), [], "b's old server is gone");
  t.equal(v2.services.b!.instances[0]!.process!.pid, v1.services.d!.instances[0]!.process!.pid, 'b runs again in the host d runs in');
  t.notSame(pidsOf(v2, 'b'), b, 'b runs new processes');
  t.ok(pidsOf(v2, 'b').every(pidAlive));
  t.ok(pidsOf(v2, 'c').length === 2 && pidsOf(v2, 'c').every(pidAlive), 'c started');
  t.same(pidsOf(v2, 'd'), d, 'd kept its processes');
  t.ok(d.every(pidAlive));
  t.equal(v2.supervisor.pid, v1.supervisor.pid, 'the same supervisor');
  const listed = await services(proxyUrl);
  t.same(listed.map((s) => s.name).sort(), ['b', 'c', 'd', 'late'], 'the proxy lists b, c, d, late');
});

t.test('mesh restart SERVICE: a new server process, the service never absent from the proxy', async (t) => {
  const { dir, home, env, proxyPort, proxyUrl } = await meshPlace(t);
  const folder = join(dir, 'm');
  const file = manifest(folder, proxyPort, echoService('fs') + echoService('other'));
  tearDownMeshes(t, dir, env, () => [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  const before = stateOf(home, folder);
  const oldChild = before.services.fs!.instances[0]!.child!.pid;
  const sidecarPid = before.services.fs!.instances[0]!.process!.pid;
  const otherPid = before.services.other!.instances[0]!.child!.pid;

  // Polls the proxy's list during the restart, counting answers without fs.
  let polls = 0;
  let absent = 0;
  const statuses = new Set<string>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const listed = await services(proxyUrl);
      polls++;
      const fs = listed.find((s) => s.name === 'fs');
      if (fs === undefined) absent++;
      else statuses.add(fs.instances[0]?.status ?? fs.status);
    }
  })();
  const restart = await runMesh(['restart', 'fs', '-f', file], { env });
  polling = false;
  await poller;
  t.equal(restart.code, 0, `${restart.stdout}\n${restart.stderr}`);
  t.match(restart.stdout, /restarted fs \(server pid \d+\)/);
  t.ok(polls > 0, `the proxy was polled during the restart (${polls} times)`);
  t.equal(absent, 0, `fs was never absent from /v1/services (statuses seen: ${[...statuses].join(', ')})`);
  const health = (await pollJson(before.services.fs!.instances[0]!.url!.replace(/\/mcp$/, '/healthz'), (status) => status === 200)) as { pid: number; sidecarPid: number };
  t.not(health.pid, oldChild, 'a new server process');
  t.equal(health.sidecarPid, sidecarPid, 'the same sidecar');
  t.notOk(pidAlive(oldChild), 'the old server is gone');
  t.ok(pidAlive(otherPid), 'the other service was not touched');
  await waitFor(async () => (await services(proxyUrl)).find((s) => s.name === 'fs')?.status === 'healthy', 'fs healthy again', 30_000);
  const call = await runMesh(['call', '-f', file, 'fs', 'echo', 'text=after'], { env });
  t.equal(call.code, 0, call.stderr);
  t.match(call.stdout, /after/);
  // Refused as the proxy refuses: 401 with a Bearer challenge, so a client can tell it needs a token.
  const controlUrl = before.services.fs!.instances[0]!.url!.replace(/\/mcp$/, '/control/restart');
  const forged = await fetch(controlUrl, { method: 'POST', headers: { authorization: 'Bearer guessed' } });
  t.equal(forged.status, 401, 'the sidecar refuses a restart with a wrong token');
  t.match(forged.headers.get('www-authenticate'), /^Bearer realm="mesh", error="invalid_token"/);
  t.match(await forged.json(), { error: { code: 'UNAUTHORIZED', message: /bearer token is wrong; this endpoint takes the token mesh up gave this sidecar/ } });
  const bare = await fetch(controlUrl, { method: 'POST' });
  t.equal(bare.status, 401, 'and one without a token');
  t.match(bare.headers.get('www-authenticate'), /^Bearer realm="mesh"/);
  await bare.body?.cancel();
  const unknown = await runMesh(['restart', 'nope', '-f', file], { env });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /has no service "nope" \(it runs: fs, other\)/);
});
