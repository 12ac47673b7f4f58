import t from 'tap';
import { parseManifest } from '../../src/manifest/load.js';

t.test("proxy.registry: a file resolves against the manifest's folder, a PostgreSQL URL stays as written", async (t) => {
  const manifest = (registry: string) => parseManifest(['version: 1', `proxy: { registry: "${registry}" }`, 'services: {}', ''].join('\n'), '/srv/mesh/mesh.yaml', {});
  t.equal(manifest('state/r.sqlite').proxy.registry, '/srv/mesh/state/r.sqlite');
  for (const url of ['postgres://mm@db.internal:5432/mesh', 'postgresql://db/mesh?sslmode=require', 'POSTGRES://db/mesh']) {
    t.equal(manifest(url).proxy.registry, url, url);
  }
});
