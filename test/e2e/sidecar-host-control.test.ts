import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pidAlive } from '../../src/stdio/process-group.js';
import { fixture, spawnNode, waitFor } from '../helpers/processes.js';

// The sidecar host on its own (no proxy): its control API adds and removes services, each with its
// own port and /healthz, and refuses a request without the run's token.

const TOKEN = 'a-control-token-of-this-test-0123456789';
const echo = (key: string, name = key) => ({ key, sidecar: { name, command: 'python3', args: [fixture('echo_server.py')], portRange: { from: 5000, to: 5099 } } });

interface Listed {
  pid: number;
  services: { key: string; state: string; url?: string; childPid?: number }[];
}

t.test('sidecar host: control API adds and removes services; token required', async (t) => {
  t.setTimeout(120_000);
  const dir = t.testdir({});
  const controlFile = join(dir, 'control.json');
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({ controlToken: TOKEN, controlFile, services: [echo('one')] }));
  const host = spawnNode('sidecar/host.js', ['--spec', specFile]);
  t.teardown(() => host.stop());

  let url = '';
  await waitFor(
    () => {
      try {
        url = (JSON.parse(readFileSync(controlFile, 'utf8')) as { url: string }).url;
        return true;
      } catch {
        return false;
      }
    },
    'the host wrote its control file',
    30_000,
  );
  const auth = { authorization: `Bearer ${TOKEN}` };
  const list = async () => (await (await fetch(`${url}/services`, { headers: auth })).json()) as Listed;

  t.equal((await fetch(`${url}/services`)).status, 401, 'no token: 401');
  t.equal((await fetch(`${url}/services`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'a wrong token: 401');
  await waitFor(async () => (await list()).services.some((s) => s.key === 'one' && s.state === 'ready' && s.url !== undefined), 'one ready', 60_000);

  const added = await fetch(`${url}/services`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(echo('two')) });
  t.equal(added.status, 201, 'a new service is added');
  const again = await fetch(`${url}/services`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(echo('two')) });
  t.match(await again.json(), { outcome: 'unchanged' }, 'the same service again changes nothing');
  const bad = await fetch(`${url}/services`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'x', sidecar: { name: 'Bad Name', command: '' } }),
  });
  t.equal(bad.status, 400, 'an invalid service is refused with 400');

  await waitFor(async () => (await list()).services.filter((s) => s.state === 'ready').length === 2, 'both ready', 60_000);
  const { services } = await list();
  const [one, two] = [services.find((s) => s.key === 'one')!, services.find((s) => s.key === 'two')!];
  t.not(one.url, two.url, 'each service has its own port');
  for (const s of [one, two]) t.equal((await fetch(s.url!.replace(/\/mcp$/, '/healthz'))).status, 200, `${s.key} answers its own /healthz`);
  // Its child restarted through its own control endpoint, with the same token.
  const restarted = await fetch(one.url!.replace(/\/mcp$/, '/control/restart'), { method: 'POST', headers: auth });
  t.equal(restarted.status, 200, "one's child restarted in place");
  t.not(((await restarted.json()) as { pid: number }).pid, one.childPid);
  t.equal((await list()).services.find((s) => s.key === 'two')?.childPid, two.childPid, "two's child untouched");

  const removed = await fetch(`${url}/services/two`, { method: 'DELETE', headers: auth });
  t.equal(removed.status, 200, 'a service is removed');
  t.notOk(pidAlive(two.childPid!), "its child's group is stopped");
  t.equal((await fetch(`${url}/services/two`, { method: 'DELETE', headers: auth })).status, 404, 'an unknown key: 404');
  t.same(
    (await list()).services.map((s) => s.key),
    ['one'],
  );

  await host.stop('SIGTERM');
  t.not(host.proc.exitCode, null, 'the host exits on SIGTERM');
});
