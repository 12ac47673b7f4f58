import t from 'tap';
import { judge, REVISIONS, runSuite, suiteUnavailable, type Target } from '../helpers/conformance.js';
import { dist } from '../helpers/processes.js';
import { startSidecar } from '../helpers/sidecar.js';

// The MCP conformance suite (0.2.0-alpha.12, `--suite all`, fetched by npx) against the sidecar,
// at both spec revisions, over two stdio fixtures with the same surface (conformance-surface.ts):
//   sidecar-legacy: conformance-server.js, a legacy-only child (initialize; no server/discover);
//   sidecar-modern: conformance-server-modern.js, the SDK's serveStdio (serves both eras).
// Every check must pass except those listed for the target and revision in
// test/fixtures/conformance-expected.json; a listed check that passes fails the test (remove it).
// Four suite runs take ~20 s; a first fetch of node@22 and the suite can take a minute.
t.setTimeout(420_000);

const fixtures: Record<Extract<Target, `sidecar-${string}`>, string> = {
  'sidecar-legacy': 'test/fixtures/conformance-server.js',
  'sidecar-modern': 'test/fixtures/conformance-server-modern.js',
};

const unavailable = await suiteUnavailable();
if (unavailable) {
  t.plan(0, unavailable);
} else {
  for (const [target, fixture] of Object.entries(fixtures) as [Target, string][]) {
    await t.test(`${target}: the suite through the sidecar over ${fixture}`, async (t) => {
      const sidecar = await startSidecar(t, { name: 'conformance', command: ['node', dist(fixture)], extra: ['--host', '127.0.0.1'] });
      for (const revision of REVISIONS) {
        await t.test(`--spec-version ${revision}`, async (t) => {
          judge(t, await runSuite(t, sidecar.url, revision), target, revision);
        });
      }
      const health = await sidecar.health();
      t.equal(health.state, 'ready', 'the sidecar is still healthy after both runs');
    });
  }
}
