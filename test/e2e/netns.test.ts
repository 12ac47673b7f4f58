import t from 'tap';
import { existsSync } from 'node:fs';
import { freePort } from '../helpers/processes.js';
import { listNamespaces, namespacePids, startNetwork } from '../helpers/netns.js';

// The lab helper itself: two hosts on a bridge, a plain HTTP server on one, fetched from the other.
t.setTimeout(120_000);

let made: string[] = [];
let pids: number[] = [];

await t.test('a host reaches another over the bridge until its link goes down', async (t) => {
  const net = await startNetwork(t, 201, ['web', 'client']);
  if (!net) return;
  made = net.namespaces;
  const web = net.host('web');
  const client = net.host('client');
  t.equal(web.address, '10.213.201.1');
  t.equal(client.address, '10.213.201.2');
  const port = await freePort();
  const server = web.spawn('python3', ['-m', 'http.server', String(port), '--bind', web.address]);
  const agent = await client.agent();
  const url = `http://${web.address}:${port}/`;
  await agent.poll(url, (status) => status === 200);
  t.ok(namespacePids(web.ns).includes(server.pid), 'the server runs inside the web namespace');
  pids = [...namespacePids(web.ns), ...namespacePids(client.ns)];

  web.linkDown();
  const down = await agent.fetch(url, { timeoutMs: 1_500 });
  t.notOk(down.ok, `no answer while the link is down (${down.error?.name})`);
  web.linkUp();
  const back = await agent.poll(url, (status) => status === 200, 20_000);
  t.ok(back, 'answers again once the link is back up');

  const loopback = await web.agent();
  t.equal((await loopback.json(`http://${web.address}:${port}/`)).status, 200, 'a host reaches its own address');
  t.equal((await loopback.json(`http://127.0.0.1:${port}/`)).status, 0, 'the server is bound to the lab address only');
});

// Only when a network was made (otherwise the first test printed the one skip line).
if (made.length > 0)
  t.test('teardown leaves no namespace and no process behind', async (t) => {
    const left = listNamespaces().filter((ns) => made.includes(ns));
    t.same(left, [], `ip netns list shows none of ${made.join(', ')}`);
    t.same(
      pids.filter((pid) => existsSync(`/proc/${pid}`)),
      [],
      'every process that ran in them is gone',
    );
  });
