import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { procStat } from '../../src/stdio/process-group.js';
import { fixture, freePort, waitFor } from '../helpers/processes.js';
import { pidAlive, runMesh, tearDownMeshes, writeManifest } from '../helpers/mesh-cli.js';

// `mesh up` runs its stdio services in one sidecar host process: faults of one service's child
// (crash, flood, hang) stay in that service, and a killed host comes back with all its services.

interface Instance {
  process?: { pid: number };
  child?: { pid: number };
  url?: string;
  status: string;
}
interface State {
  services: Record<string, { status: string; instances: Instance[] }>;
}

const py = (name: string, script: string, extra = '') => `  ${name}:\n    command: python3\n    args: [${fixture(script)}]\n${extra}`;

function stateOf(home: string): State {
  const runs = join(home, 'runs');
  const [run] = readdirSync(runs);
  return JSON.parse(readFileSync(join(runs, run!, 'state.json'), 'utf8')) as State;
}
const instance = (home: string, service: string): Instance => stateOf(home).services[service]!.instances[0]!;

// A routed call through the proxy; resolves with the HTTP status and the text of the answer.
async function call(proxyUrl: string, service: string, tool: string, args: Record<string, unknown>, deadlineMs = 20_000): Promise<{ status: number; text: string }> {
  const response = await fetch(`${proxyUrl}/v1/services/${service}/tools/${tool}/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ arguments: args, deadlineMs }),
  });
  return { status: response.status, text: await response.text() };
}

// Every listed service healthy in the run's state, each with a URL and a child.
function allHealthy(home: string, names: string[]): boolean {
  const { services } = stateOf(home);
  return names.every((name) => services[name]?.status === 'healthy' && services[name].instances[0]?.child !== undefined && services[name].instances[0]?.url !== undefined);
}

t.test('one sidecar host: contained faults, mesh restart of one service, a killed host comes back', async (t) => {
  t.setTimeout(240_000);
  const dir = t.testdir({ home: {} });
  const home = join(dir, 'home');
  const env = { MESH_HOME: home };
  const proxyPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const hosted = ['one', 'two', 'big', 'hang'];
  const file = writeManifest(
    dir,
    proxyPort,
    py('one', 'echo_server.py') +
      py('two', 'echo_server.py') +
      py('big', 'big_output_server.py') +
      py('hang', 'hang_server.py', '    deadline: 3\n') +
      py('solo', 'echo_server.py', '    isolate: true\n'),
  );
  tearDownMeshes(t, dir, env, [file]);

  const up = await runMesh(['up', file, '--detach'], { env });
  t.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
  await waitFor(() => allHealthy(home, [...hosted, 'solo']), 'every service healthy with its child known', 60_000);
  const hostPid = instance(home, 'one').process!.pid;
  t.same(new Set(hosted.map((name) => instance(home, name).process!.pid)), new Set([hostPid]), 'the hosted services share one process');
  t.not(instance(home, 'solo').process!.pid, hostPid, 'isolate: true gets a process of its own');
  t.equal(new Set(hosted.map((name) => instance(home, name).url)).size, hosted.length, 'each hosted service has its own port');
  for (const name of [...hosted, 'solo']) t.equal((await fetch(instance(home, name).url!.replace(/\/mcp$/, '/healthz'))).status, 200, `${name} answers its own /healthz`);

  // A child killed: only its service restarts it; the others keep their children and answer.
  const twoChild = instance(home, 'two').child!.pid;
  const oneChild = instance(home, 'one').child!.pid;
  process.kill(oneChild, 'SIGKILL');
  t.match(await call(proxyUrl, 'two', 'echo', { text: 'still here' }), { status: 200, text: /still here/ }, 'two answers while one restarts its child');
  await waitFor(() => instance(home, 'one').child?.pid !== oneChild && allHealthy(home, ['one']), 'one restarted its child', 60_000);
  t.match(await call(proxyUrl, 'one', 'echo', { text: 'back' }), { status: 200, text: /back/ });
  t.equal(instance(home, 'two').child!.pid, twoChild, "two's child was not touched");
  t.equal(instance(home, 'one').process!.pid, hostPid, 'the host did not restart');

  // A flood of 50 MB on one child's stdout and a call that hangs: the others answer meanwhile.
  const flood = call(proxyUrl, 'big', 'flood', { mb: 50 }, 5_000);
  const hang = call(proxyUrl, 'hang', 'hang', {});
  for (let i = 0; i < 5; i++)
    t.match(await call(proxyUrl, 'two', 'echo', { text: `during ${i}` }), { status: 200, text: new RegExp(`during ${i}`) }, `call ${i} answers during the flood and the hang`);
  t.not((await flood).status, 200, 'the flooding call fails on its own deadline');
  t.not((await hang).status, 200, 'the hanging call fails on its deadline');
  t.match(await call(proxyUrl, 'big', 'echo', { text: 'big ok' }), { status: 200, text: /big ok/ }, 'the flooding service recovers');

  // mesh restart of one hosted service: just its child.
  const restart = await runMesh(['restart', '-f', file, 'two'], { env });
  t.equal(restart.code, 0, restart.stderr);
  await waitFor(() => instance(home, 'two').child?.pid !== twoChild, 'two has a new child');
  t.equal(instance(home, 'one').process!.pid, hostPid, 'still the same host');
  t.equal(instance(home, 'solo').child === undefined, false);

  // The host SIGKILLed: mesh up starts it again and every hosted service comes back.
  const children = hosted.map((name) => instance(home, name).child!.pid);
  const soloChild = instance(home, 'solo').child!.pid;
  process.kill(hostPid, 'SIGKILL');
  await waitFor(() => instance(home, 'one').process?.pid !== hostPid && allHealthy(home, hosted), 'a new host with every service healthy', 90_000);
  for (const pid of children) t.equal(procStat(pid), undefined, `the old child ${pid} is gone (not orphaned, not a zombie)`);
  const newHost = instance(home, 'one').process!.pid;
  t.ok(pidAlive(newHost));
  for (const name of ['one', 'two']) t.match(await call(proxyUrl, name, 'echo', { text: 'again' }), { status: 200, text: /again/ }, `${name} answers through the new host`);
  t.equal(instance(home, 'solo').child!.pid, soloChild, 'the isolated service was not touched');

  const down = await runMesh(['down', file], { env });
  t.equal(down.code, 0, down.stderr);
  await waitFor(() => !pidAlive(newHost), 'the host stopped');
  for (const name of hosted) t.notOk(pidAlive(instance(home, name).child?.pid ?? newHost), `${name}'s child stopped`);
});
