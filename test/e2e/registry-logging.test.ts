import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { waitFor } from '../helpers/processes.js';
import { startProxy, tempDir } from '../helpers/proxy.js';
import { Registry } from '../../proxy/registry/registry.js';
import { loadSqlJs } from '../../proxy/registry/sqlite.js';

// Registry write failures and rows dropped on load reach the proxy's log, not only /healthz counters.

const registration = (id: string, port: number) => ({
  id,
  name: 'fs',
  url: `http://127.0.0.1:${port}/mcp`,
  host: '127.0.0.1',
  port,
  tags: [],
  tools: [{ name: 'read_text', description: 'Read', inputSchema: { type: 'object' } }],
  toolsHash: 'h1',
  version: '1.0.0',
  kind: 'sidecar',
});

t.test('a failing registry write is logged with the file and the reason', async (t) => {
  const proxy = await startProxy(t);
  mkdirSync(proxy.registryFile); // a folder where the file goes: every write's final rename fails
  const registered = await proxy.api('/v1/instances', { method: 'POST', body: JSON.stringify(registration('fs-a', 5901)) });
  t.equal(registered.status < 300, true, `registered (${registered.status})`);
  await waitFor(() => /registry write to .*registry\.sqlite failed/.test(proxy.stderr()), 'the failed write is logged');
  t.pass(
    proxy
      .stderr()
      .split('\n')
      .find((line) => line.includes('registry write')) ?? '',
  );
});

t.test('rows dropped on load are logged, naming the row and why', async (t) => {
  const file = join(tempDir(t), 'registry.sqlite');
  const first = await Registry.open({ file });
  first.register(registration('fs-a', 5901));
  first.register(registration('fs-b', 5902));
  await first.close();
  const SQL = await loadSqlJs();
  const db = new SQL.Database(readFileSync(file));
  db.run(`UPDATE instances SET url = 'file:///etc/passwd' WHERE id = 'fs-b'`);
  writeFileSync(file, db.export());
  db.close();
  const proxy = await startProxy(t, { registryFile: file });
  await waitFor(() => /registry row fs-b no longer validates and was dropped on load: .*url/.test(proxy.stderr()), 'the dropped row is logged');
  t.pass('logged');
});
