import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { dist } from '../helpers/processes.js';
import { startSidecar } from '../helpers/sidecar.js';

// The MCP conformance suite (Node 22, fetched by npx) against the sidecar wrapping a stdio fixture.
// The suite's reference server passes 44 checks over HTTP; the bridge must pass the same 44.
const suite = ['-y', '-p', 'node@22', '-p', '@modelcontextprotocol/conformance@0.1.16', 'conformance'];

const probe = await execa('npx', [...suite, '--version'], { reject: false, timeout: 300_000 });
if (probe.exitCode !== 0) {
  t.plan(0, `conformance suite not run: Node 22 / @modelcontextprotocol/conformance could not be fetched through npx (${(probe.stderr || probe.stdout).split('\n').slice(-3).join(' ')})`);
} else {
  t.test('conformance suite through the sidecar', async (t) => {
    const sidecar = await startSidecar(t, { name: 'conformance', command: ['node', dist('test/fixtures/conformance-server.js')], extra: ['--host', '127.0.0.1'] });
    const out = mkdtempSync(join(tmpdir(), 'mm-conformance-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const run = await execa('npx', [...suite, 'server', '--url', sidecar.url, '--suite', 'all', '-o', out], { reject: false, timeout: 600_000 });
    const total = /^Total: (\d+) passed, (\d+) failed$/m.exec(run.stdout);
    const failedLines = run.stdout.split('\n').filter((line) => line.startsWith('✗'));

    if (!total) t.comment(`suite output:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
    t.ok(total, 'the suite printed its total');
    t.equal(Number(total?.[2]), 0, `no failed checks; failing scenarios: ${failedLines.join('; ') || 'none'}`);
    t.equal(Number(total?.[1]), 44, 'all 44 checks pass, as for the reference server');
    t.equal(run.exitCode, 0, 'the suite exits 0');

    const statuses: Record<string, number> = {};
    for (const dir of readdirSync(out)) {
      const checks = JSON.parse(readFileSync(join(out, dir, 'checks.json'), 'utf8')) as { status: string }[];
      for (const check of checks) statuses[check.status] = (statuses[check.status] ?? 0) + 1;
    }
    t.equal(readdirSync(out).length, 32, 'all 32 scenarios ran');
    t.equal(statuses.FAILURE ?? 0, 0, `check statuses: ${JSON.stringify(statuses)}`);
    const health = await sidecar.health();
    t.equal(health.state, 'ready', 'the sidecar is still healthy after the suite');
  });
}
