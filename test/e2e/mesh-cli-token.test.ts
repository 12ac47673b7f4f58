import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { processesNaming, runMesh, writeManifest } from '../helpers/mesh-cli.js';
import { dist, freePort } from '../helpers/processes.js';

// With MESH_TOKEN set, the proxy `mesh up` starts requires it on every path (/healthz too): up must
// send it on its probes to see the proxy come up, and the summary's example call needs the tool list.
// The services register with it too: a native createInstance service and a sidecar both read MESH_TOKEN.
t.test('mesh up --detach with MESH_TOKEN: probes and registrations carry the token', async (t) => {
  const dir = t.testdir({ home: {} });
  const env = { MESH_HOME: join(dir, 'home'), MESH_TOKEN: 's3cret' };
  const proxyPort = await freePort();
  const file = writeManifest(
    dir,
    proxyPort,
    `  ping:
    kind: native
    command: node
    args: [${dist('test/fixtures/ping-pong-instance.js')}]
    port: ${await freePort()}
  echo:
    command: python3
    args: [${join(process.cwd(), 'test/fixtures/echo_server.py')}]
    port: ${await freePort()}
`,
  );
  t.teardown(async () => {
    await runMesh(['down', file], { env });
    for (const leftover of processesNaming(dir)) process.kill(leftover.pid, 'SIGKILL');
  });
  const up = await runMesh(['up', file, '--detach', '--timeout', '30'], { env, timeoutMs: 60_000 });
  t.equal(up.code, 0, `mesh up --detach\n${up.stdout}\n${up.stderr}`);
  t.match(up.stdout, /2 of 2 services healthy/, 'the sidecar registered with the token-protected proxy too');
  t.match(up.stdout, /A call:\s+(npx )?mesh call -f \S+ ping \w+/, 'the example call (needs the tool list from the token-protected proxy)');
  // The control channel of mesh up refuses a missing or wrong token as the proxy does: 401 and a Bearer challenge.
  const runs = join(env.MESH_HOME, 'runs');
  const control = readdirSync(runs)
    .map((run) => join(runs, run, 'control.json'))
    .filter((path) => existsSync(path));
  t.equal(control.length, 1, 'one run with a control channel');
  const channel = JSON.parse(readFileSync(control[0]!, 'utf8')) as { url: string; token: string };
  for (const authorization of [undefined, 'Bearer guessed']) {
    const refused = await fetch(`${channel.url}/status`, { headers: authorization ? { authorization } : {} });
    t.equal(refused.status, 401, `control channel without its token (${authorization ?? 'no Authorization'})`);
    t.match(refused.headers.get('www-authenticate'), /^Bearer realm="mesh"/);
    t.match(await refused.json(), { error: { code: 'UNAUTHORIZED', message: /the token in control\.json/ } });
  }
  const status = await fetch(`${channel.url}/status`, { headers: { authorization: `Bearer ${channel.token}` } });
  t.equal(status.status, 200, 'and answers with it');
  await status.body?.cancel();
  const restart = await runMesh(['restart', 'echo', '-f', file], { env });
  t.equal(restart.code, 0, `mesh restart works beside the proxy's token\n${restart.stderr}`);
  const down = await runMesh(['down', file], { env });
  t.equal(down.code, 0, down.stderr);
  t.same(processesNaming(dir), [], 'nothing left');
});
