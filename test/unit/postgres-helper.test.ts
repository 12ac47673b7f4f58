import { existsSync, readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { startPostgres } from '../helpers/postgres.js';

// A postmaster and its children (by /proc/<pid>/stat's parent), to prove teardown leaves none of
// them: other test files may run clusters of their own meanwhile, so only this one's are counted.
function clusterPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === postmaster) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

t.test('a throw-away cluster starts, answers, restarts and is torn down', async (t) => {
  t.setTimeout(120_000);
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
    const postmaster = cluster.pid();
    ours = postmaster === undefined ? [] : clusterPids(postmaster);
    t.ok(ours.length > 1, 'the cluster runs a postmaster and its postgres processes');
  });
  const left = ours.filter((pid) => existsSync(`/proc/${pid}`));
  t.same(left, [], 'no postgres process of ours is left after teardown');
});
