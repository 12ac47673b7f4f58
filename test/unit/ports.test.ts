import { createServer, type Server } from 'node:http';
import t from 'tap';
import { FETCH_BLOCKED_PORTS, listenOnFreePort, parsePortRange } from '../../src/http/ports.js';
import { MeshError } from '../../src/errors.js';

t.test('parsePortRange', async (t) => {
  t.same(parsePortRange('5000-5099'), { from: 5000, to: 5099 });
  t.same(parsePortRange(' 7-7 '), { from: 7, to: 7 });
  for (const bad of ['5000', '5099-5000', '0-10', '1-65536', 'a-b', '5000-', '-5', '5000-5099-6000', '']) {
    t.throws(() => parsePortRange(bad), { name: 'MeshError', code: 'BAD_REQUEST', message: /invalid port range/ }, `"${bad}"`);
  }
});

t.test('fetch-refused ports are on the skip list', async (t) => {
  t.ok(FETCH_BLOCKED_PORTS.has(5060) && FETCH_BLOCKED_PORTS.has(5061) && FETCH_BLOCKED_PORTS.has(6000));
});

const servers: Server[] = [];
t.teardown(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
function server(): Server {
  const s = createServer();
  servers.push(s);
  return s;
}

/** A run of `count` consecutive ports that are all free right now (the OS picked the first one). */
async function freeRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = server();
    const base = await listenOnFreePort(probe, '127.0.0.1', 0, { from: 1, to: 1 });
    await new Promise((r) => probe.close(r));
    if (base + count > 65_535) continue;
    const held: Server[] = [];
    let ok = true;
    for (let p = base; p < base + count; p++) {
      const s = server();
      try {
        await listenOnFreePort(s, '127.0.0.1', p, { from: 1, to: 1 });
        held.push(s);
      } catch {
        ok = false;
        break;
      }
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error('no run of free ports found');
}

t.test('--port 0 lets the OS choose; an explicit busy port is PORT_IN_USE', async (t) => {
  const a = server();
  const port = await listenOnFreePort(a, '127.0.0.1', 0, { from: 5000, to: 5099 });
  t.ok(port > 0);
  const b = server();
  await t.rejects(listenOnFreePort(b, '127.0.0.1', port, { from: 5000, to: 5099 }), { code: 'PORT_IN_USE', message: new RegExp(`:${port}`) });
});

t.test('the first free port of the range is taken, busy ones are skipped', async (t) => {
  const base = await freeRun(3);
  const busy = server();
  await listenOnFreePort(busy, '127.0.0.1', base, { from: 1, to: 1 });
  const s = server();
  const port = await listenOnFreePort(s, '127.0.0.1', undefined, { from: base, to: base + 2 });
  t.equal(port, base + 1, 'skipped the busy first port');
});

t.test('all ports busy: NO_FREE_PORT naming the range, no hang', async (t) => {
  const base = await freeRun(2);
  const s1 = server();
  const s2 = server();
  await listenOnFreePort(s1, '127.0.0.1', base, { from: 1, to: 1 });
  await listenOnFreePort(s2, '127.0.0.1', base + 1, { from: 1, to: 1 });
  const error = await listenOnFreePort(server(), '127.0.0.1', undefined, { from: base, to: base + 1 }).catch((e: unknown) => e);
  t.ok(error instanceof MeshError);
  t.equal((error as MeshError).code, 'NO_FREE_PORT');
  t.match((error as MeshError).message, `no free port in ${base}-${base + 1}`);
  t.match((error as MeshError).message, 'all 2 usable ports');
});

t.test('5060 and 5061 are never tried (ranges made only of blocked ports have none usable)', async (t) => {
  // Do not bind 5060 itself: the range 5060-5061 has nothing usable, whatever is running on the machine.
  const error = await listenOnFreePort(server(), '127.0.0.1', undefined, { from: 5060, to: 5061 }).catch((e: unknown) => e);
  t.match(error, { code: 'NO_FREE_PORT', message: /all 0 usable ports/ });
});
