// The manifest's proxy.circuit section: parsed strictly, turned into mesh-proxy's circuit-breaking flags.
import t from 'tap';
import { MeshError } from '../../src/errors.js';
import { parseManifest } from '../../src/manifest/load.js';
import { circuitArgs } from '../../sidecar/mesh/orchestrator/proxy-launch.js';

const manifest = (circuit: string) => parseManifest(['version: 1', 'proxy:', `  circuit: ${circuit}`, 'services: {}', ''].join('\n'), 'configs/x.yaml', {});

t.test('proxy.circuit becomes mesh-proxy flags; what it leaves out keeps the proxy defaults', async (t) => {
  const full = manifest('{ ejectAfter: 3, ejectionTime: 10, maxEjectionTime: 120, maxEjectionPercent: 34 }');
  t.same(circuitArgs(full.proxy.circuit), ['--eject-after', '3', '--ejection-time', '10', '--max-ejection-time', '120', '--max-ejection-percent', '34']);
  t.same(circuitArgs(manifest('{ ejectAfter: 2 }').proxy.circuit), ['--eject-after', '2']);
  t.same(circuitArgs(parseManifest('version: 1\nservices: {}\n', 'configs/x.yaml', {}).proxy.circuit), [], 'no section: no flags');
});

t.test('a bad proxy.circuit value is named with its line', async (t) => {
  const error = (() => {
    try {
      manifest('{ maxEjectionPercent: 150, ejectafter: 2 }');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(error instanceof MeshError);
  t.match((error as MeshError).message, /configs\/x\.yaml:3: proxy\.circuit\.maxEjectionPercent: .*100/);
  t.match((error as MeshError).message, /proxy\.circuit\.ejectafter: unknown key "ejectafter" \(did you mean "ejectAfter"\?\)/);
});
