import t, { type Test } from 'tap';
import { readdirSync, readFileSync, realpathSync, statSync, symlinkSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Registry } from '../../proxy/registry/registry.js';
import { parseInstanceNetworks } from '../../proxy/registry/instance-networks.js';
import { CoalescedWriter } from '../../proxy/registry/persist.js';
import { lockAddress } from '../../proxy/registry/file-lock.js';
import { loadSqlJs } from '../../proxy/registry/sqlite.js';
import { silentLogger } from '../../src/log.js';
import type { RegistrationInput } from '../../src/contract/index.js';

const START = 1_700_000_000_000;

// A valid registration for instance `id` of service `name` on `port`.
function reg(id: string, name = 'fs', port = 5001, extra: Partial<RegistrationInput> = {}): RegistrationInput {
  return {
    id,
    name,
    url: `http://127.0.0.1:${port}/mcp`,
    host: '127.0.0.1',
    port,
    tags: ['python'],
    tools: [{ name: 'read_text', description: 'Read', inputSchema: { type: 'object' } }],
    toolsHash: 'h1',
    version: '1.0.0',
    kind: 'sidecar',
    ...extra,
  };
}

// A registry file in a fresh folder and a clock the test moves by hand (tests close their registry
// themselves: the folder is removed in teardown, before a teardown close could write).
function setup(t: Test) {
  const dir = t.testdir({});
  return { dir, file: join(dir, 'registry.db'), clock: { now: START } };
}

// Files in `dir` whose names start with `prefix`.
function named(dir: string, prefix: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith(prefix));
}

t.test('round trip: instances survive a restart and come back fresh', async (t) => {
  const { file, clock } = setup(t);
  const first = await Registry.open({ file, now: () => clock.now });
  first.register(reg('fs-a', 'fs', 5001, { pid: 77, resources: 2, prompts: [{ name: 'p' }], state: 'ready' }));
  const { lease } = first.register(reg('fs-b', 'fs', 5002));
  first.register(reg('mem-1', 'memory', 5003));
  first.heartbeat('fs-b', { state: 'restarting' }, lease);
  first.audit({ service: 'fs', tool: 'read_text', durationMs: 2, outcome: 'ok' });
  clock.now += 100_000; // no beats for 100 s: unhealthy, not yet removed
  t.equal(first.instance('fs-a')?.status, 'unhealthy');
  await first.close();
  t.ok(statSync(file).size > 0);

  const second = await Registry.open({ file, now: () => clock.now });
  t.equal(second.recovered, undefined);
  t.equal(second.stats().instances, 3);
  const a = second.instance('fs-a');
  t.match(a, { name: 'fs', pid: 77, resources: 2, prompts: [{ name: 'p' }], status: 'healthy', lastHeartbeat: START + 100_000, registeredAt: START });
  t.equal(a?.tools[0]?.description, 'Read');
  t.equal(second.instance('fs-b')?.status, 'restarting', 'child state persisted');
  t.equal((await second.recentAudit({ limit: 10 })).length, 1, 'audit persisted');
  clock.now += 89_000;
  t.same(second.sweep().changed, [], 'fresh after load: the restart did not expire anyone');
  clock.now += 1_000;
  t.equal(second.sweep().changed.length, 3, 'then unhealthy after 3 missed beats counted from the restart');
  await second.close();
});

t.test('leases survive a restart; a file from before leases drops its rows (they register again)', async (t) => {
  const { file, clock } = setup(t);
  const first = await Registry.open({ file, now: () => clock.now });
  const { lease } = first.register(reg('fs-a'));
  first.audit({ service: 'fs', tool: 'read_text', durationMs: 2, outcome: 'ok' });
  await first.close();

  const second = await Registry.open({ file, now: () => clock.now });
  t.throws(() => second.heartbeat('fs-a', { state: 'crashloop' }, 'A'.repeat(43)), { code: 'CONFLICT' }, 'after a restart a wrong lease is still refused');
  t.equal(second.heartbeat('fs-a', { state: 'ready' }, lease)?.status, 'healthy', 'and the stored lease still beats');
  await second.close();

  // The same file as a version 1 registry wrote it: no lease column.
  const SQL = await loadSqlJs();
  const old = new SQL.Database(readFileSync(file));
  old.exec('ALTER TABLE instances DROP COLUMN lease; PRAGMA user_version = 1;');
  writeFileSync(file, old.export());
  old.close();
  const third = await Registry.open({ file, now: () => clock.now });
  t.equal(third.recovered, undefined, 'an older file is migrated, not quarantined');
  t.match(third.droppedRows, [{ id: 'fs-a', reason: /no valid lease/ }], 'its lease-less rows are dropped');
  t.equal(third.heartbeat('fs-a', {}, lease), undefined, 'so the instance gets 404 and registers again');
  t.equal((await third.recentAudit({})).length, 1, 'the audit trail is kept');
  await third.close();
});

t.test('heartbeats never write the file; registrations are coalesced', async (t) => {
  const { file, clock } = setup(t);
  const registry = await Registry.open({ file, now: () => clock.now, flushDelayMs: 50 });
  const leases: string[] = [];
  for (let i = 0; i < 100; i++) {
    leases.push(registry.register(reg(`fs-${i}`, 'fs', 5000 + i)).lease);
    if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await registry.flush();
  const afterRegister = registry.stats().fileWrites;
  t.ok(afterRegister >= 1 && afterRegister <= 3, `100 registrations → ${afterRegister} file writes`);
  t.ok(registry.stats().fileBytes > 0);
  t.equal(registry.stats().lastWriteAt, START);
  for (let round = 0; round < 5; round++) {
    clock.now += 30_000;
    for (let i = 0; i < 100; i++) registry.heartbeat(`fs-${i}`, { inflight: 0, calls: round }, leases[i]);
  }
  await registry.flush();
  t.equal(registry.stats().fileWrites, afterRegister, '500 heartbeats → no write');
  registry.heartbeat('fs-1', { state: 'restarting' }, leases[1]);
  await registry.flush();
  t.equal(registry.stats().fileWrites, afterRegister + 1, 'a child state change is written');
  t.same(named(join(file, '..'), '.registry.db.tmp'), [], 'no temp files left');
  await registry.close();
});

t.test('the writer keeps one write in flight and picks up changes made during it', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const written: number[] = [];
  let version = 0;
  let release: (() => void) | undefined;
  const writer = new CoalescedWriter({
    file: '/nonexistent/x',
    delayMs: 0,
    now: () => 0,
    logger: silentLogger,
    snapshot: () => new Uint8Array([version]),
    write: async (_file, data) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => (release = resolve));
      written.push(data[0] ?? -1);
      inFlight--;
    },
  });
  version = 1;
  writer.markDirty();
  const first = writer.flush();
  await new Promise((resolve) => setImmediate(resolve));
  version = 2;
  writer.markDirty();
  const second = writer.flush();
  const third = writer.flush();
  await new Promise((resolve) => setImmediate(resolve));
  release?.();
  await first;
  await new Promise((resolve) => setImmediate(resolve));
  release?.();
  await Promise.all([second, third]);
  t.equal(maxInFlight, 1);
  t.same(written, [1, 2], 'the second write carries the change made during the first');
  t.equal(writer.stats().writes, 2);
});

t.test('garbage in the file: moved aside, start empty, say so', async (t) => {
  const { dir, file, clock } = setup(t);
  writeFileSync(file, 'this is not a database at all, just garbage '.repeat(20));
  const registry = await Registry.open({ file, now: () => clock.now });
  t.match(registry.recovered, { reason: /not a SQLite file/, movedTo: `${file}.corrupt-2023-11-14T22-13-20.000Z` });
  t.equal(readFileSync(registry.recovered!.movedTo, 'utf8').slice(0, 12), 'this is not ');
  t.equal(registry.stats().instances, 0);
  registry.register(reg('fs-a'));
  await registry.flush();
  t.equal(named(dir, 'registry.db.corrupt-').length, 1);
  const reopenedBytes = readFileSync(file);
  t.equal(reopenedBytes.subarray(0, 15).toString('latin1'), 'SQLite format 3', 'a good file replaces it');
  await registry.close();
});

t.test('a truncated file is detected and quarantined', async (t) => {
  const { dir, file, clock } = setup(t);
  const registry = await Registry.open({ file, now: () => clock.now });
  for (let i = 0; i < 30; i++)
    registry.register(reg(`fs-${i}`, 'fs', 5000 + i, { tools: Array.from({ length: 20 }, (_, k) => ({ name: `tool${k}`, description: 'x'.repeat(200), inputSchema: { type: 'object' } })) }));
  await registry.close();
  const size = statSync(file).size;
  t.ok(size > 8192, `file has several pages (${size} bytes)`);
  truncateSync(file, Math.floor(size / 4096 / 2) * 4096);
  const reopened = await Registry.open({ file, now: () => clock.now });
  t.match(reopened.recovered?.reason, /^truncated/);
  t.equal(reopened.stats().instances, 0);
  t.equal(named(dir, 'registry.db.corrupt-').length, 1);
  await reopened.close();
});

t.test('a torn tail (not a whole page) and a foreign database are quarantined too', async (t) => {
  const { dir, file, clock } = setup(t);
  const registry = await Registry.open({ file, now: () => clock.now });
  registry.register(reg('fs-a'));
  await registry.close();
  truncateSync(file, statSync(file).size - 100);
  const torn = await Registry.open({ file, now: () => clock.now });
  t.match(torn.recovered?.reason, /truncated/);
  await torn.close();

  const SQL = await loadSqlJs();
  const foreign = new SQL.Database();
  foreign.run('CREATE TABLE something_else (a)');
  writeFileSync(file, foreign.export());
  foreign.close();
  clock.now += 1000;
  const other = await Registry.open({ file, now: () => clock.now });
  t.match(other.recovered?.reason, /schema version 0|missing/);
  await other.close();
  t.equal(named(dir, 'registry.db.corrupt-').length, 2);
});

t.test('an unreadable path is moved aside', async (t) => {
  const { dir, file, clock } = setup(t);
  mkdirSync(file);
  const registry = await Registry.open({ file, now: () => clock.now });
  t.match(registry.recovered?.reason, /^unreadable: EISDIR/);
  t.equal(named(dir, 'registry.db.corrupt-').length, 1);
  await registry.close();
});

t.test('a bad row is dropped on load, the rest kept', async (t) => {
  const { file, clock } = setup(t);
  const SQL = await loadSqlJs();
  const first = await Registry.open({ file, now: () => clock.now });
  first.register(reg('fs-a'));
  first.register(reg('fs-b', 'fs', 5002));
  await first.close();
  const db = new SQL.Database(readFileSync(file));
  db.run(`UPDATE instances SET url = 'file:///etc/passwd' WHERE id = 'fs-b'`);
  writeFileSync(file, db.export());
  db.close();
  const second = await Registry.open({ file, now: () => clock.now });
  t.match(second.droppedRows, [{ id: 'fs-b', reason: /url: scheme "file:"/ }]);
  t.same(
    second.instances('fs').map((i) => i.id),
    ['fs-a'],
  );
  await second.close();
});

t.test('one registry file, one proxy: a second open fails at once naming the holder; close frees it', async (t) => {
  const { dir, file } = setup(t);
  const first = await Registry.open({ file });
  await t.rejects(Registry.open({ file }), { message: /registry file .* is in use by another mesh-proxy \(this process already has it open; lock .*registry\.db\.lock\)/ });
  await first.close();
  const again = await Registry.open({ file });
  await again.close();
  t.pass('the lock is free once its holder closed the registry');
  t.same(
    readdirSync(dir).filter((name) => name.includes('.lock')),
    [],
    'a closed registry leaves no lock folder or socket behind',
  );
  // A leftover pid file of the old lock (here naming pid 1, alive and no proxy) no longer matters.
  writeFileSync(`${file}.lock`, '1\n');
  const ignored = await Registry.open({ file });
  await ignored.close();
  t.pass('an old pid lock file is ignored');
});

t.test('the lock address follows the real path of the file', async (t) => {
  const { file } = setup(t);
  const linked = join(dirname(file), 'via-link');
  symlinkSync(dirname(file), linked);
  t.equal(lockAddress(join(linked, basename(file))).path, lockAddress(file).path, 'a symlinked folder names the same lock');
  t.match(lockAddress(file), { path: `${realpathSync(dirname(file))}/${basename(file)}.lock`, kind: 'folder' }, 'on Linux too: a folder beside the registry (holding one socket file)');
  t.match(lockAddress(file, 'win32'), { path: /^\\\\\.\\pipe\\mm-registry-[0-9a-f]{32}$/, kind: 'pipe' }, 'Windows: a named pipe');
});

t.test('memory-only registry: no file, no lock, no writes', async (t) => {
  const registry = await Registry.open();
  registry.register(reg('fs-a'));
  await registry.flush();
  t.match(registry.stats(), { instances: 1, services: 1, fileWrites: 0, fileBytes: 0 });
  await registry.close();
});

t.test('a failed write is counted, reported by flush, and retried', async (t) => {
  let failures = 1;
  const writer = new CoalescedWriter({
    file: '/nonexistent/x',
    delayMs: 0,
    now: () => 5,
    logger: silentLogger,
    snapshot: () => new Uint8Array([1]),
    write: async () => {
      if (failures-- > 0) throw new Error('ENOSPC: no space left on device');
    },
  });
  writer.markDirty();
  await t.rejects(writer.flush(), /ENOSPC/);
  t.match(writer.stats(), { writes: 0, errors: 1, dirty: true }, 'still dirty after a failed write');
  await writer.flush();
  t.match(writer.stats(), { writes: 1, errors: 1, dirty: false, lastWriteAt: 5 });
});

t.test('the registry file folder is created; remote instances only when allowed', async (t) => {
  const { dir, clock } = setup(t);
  const file = join(dir, 'nested', 'deeper', 'registry.db');
  const registry = await Registry.open({ file, now: () => clock.now, allowInstances: parseInstanceNetworks(['10.0.0.0/8']) });
  registry.register(reg('far-1', 'far', 5001, { url: 'http://10.1.2.3:5001/mcp', host: '10.1.2.3' }));
  await registry.flush();
  t.ok(statSync(file).size > 0);
  await registry.close();
  const strict = await Registry.open({ file, now: () => clock.now });
  t.match(strict.droppedRows, [{ id: 'far-1', reason: /not loopback/ }], 'a stricter proxy drops remote rows on load');
  await strict.close();
});

t.test('a version 2 file (audit rows without hops and trace id) is migrated, its rows kept', async (t) => {
  const { file, clock } = setup(t);
  const first = await Registry.open({ file, now: () => clock.now });
  first.register(reg('fs-a'));
  first.audit({ service: 'fs', tool: 'read_text', durationMs: 2, outcome: 'ok', requestBytes: 5 });
  await first.close();
  const SQL = await loadSqlJs();
  const old = new SQL.Database(readFileSync(file));
  old.exec('ALTER TABLE audit DROP COLUMN hops; ALTER TABLE audit DROP COLUMN trace_id; PRAGMA user_version = 2;');
  writeFileSync(file, old.export());
  old.close();
  const second = await Registry.open({ file, now: () => clock.now });
  t.equal(second.recovered, undefined, 'not quarantined');
  t.same(second.droppedRows, []);
  second.audit({ service: 'fs', tool: 'read_text', durationMs: 1, outcome: 'ok', hops: 1, traceId: '0af7651916cd43dd8448eb211c80319c' });
  const [newest, older] = await second.recentAudit({});
  t.match(newest, { hops: 1, traceId: '0af7651916cd43dd8448eb211c80319c' }, 'new rows fill the new columns');
  t.match(older, { tool: 'read_text', requestBytes: 5 });
  t.equal(older?.hops, undefined, 'old rows have none');
  await second.close();
});
