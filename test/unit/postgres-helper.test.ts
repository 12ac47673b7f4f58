import { existsSync, readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { startPostgres } from '../helpers/postgres.js';

// Every live postgres process on the machine (by /proc/<pid>/comm), to prove teardown leaves none of ours.
function postgresPids(): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

t.test('a throw-away cluster starts, answers, restarts and is torn down', async (t) => {
  t.setTimeout(120_000);
  const before = postgresPids();
  let ours: number[] = [];
  await t.test('cluster', async (t) => {
    const cluster = await startPostgres(t);
    if (!cluster) return;
    t.match(cluster.url, /^postgres:\/\/mm:pw@127\.0\.0\.1:\d+\/mm$/);
    t.same(await cluster.query('select 1 as one'), [{ one: 1 }]);
    await cluster.query('create table kept (v int)');
    await cluster.query('insert into kept values ($1)', [42]);
    const first = cluster.pid();
    await cluster.restart();
    t.not(cluster.pid(), first, 'a new postmaster after restart');
    t.ok(first !== undefined && !existsSync(`/proc/${first}`), 'the old postmaster is gone');
    t.same(await cluster.query('select v from kept'), [{ v: 42 }], 'data survives the restart');
    ours = [...postgresPids()].filter((pid) => !before.has(pid));
    t.ok(ours.length > 0, 'the cluster runs postgres processes');
  });
  const left = ours.filter((pid) => existsSync(`/proc/${pid}`));
  t.same(left, [], 'no postgres process of ours is left after teardown');
});
