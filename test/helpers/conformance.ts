// Runs @modelcontextprotocol/conformance (server suite, `--suite all`) against a URL at one spec
// revision and judges the outcome against test/fixtures/conformance-expected.json: every check must
// pass except the listed ones, and a listed check that passes (or no longer runs) fails the test
// too, so the list only ever shrinks. See test/fixtures/CONFORMANCE.md §9.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { execa } from 'execa';
import { z } from 'zod';
import { root } from './processes.js';

export const CONFORMANCE_PACKAGE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
/** The suite needs Node >= 22 (fs.globSync); npx fetches both on first use. */
export const SUITE = ['-y', '-p', 'node@22', '-p', CONFORMANCE_PACKAGE, 'conformance'];
export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];
export type Target = 'sidecar-legacy' | 'sidecar-modern' | 'proxy-direct' | 'proxy-mapped';

const CheckSchema = z.object({ id: z.string(), status: z.enum(['SUCCESS', 'FAILURE', 'WARNING', 'INFO', 'SKIPPED']), errorMessage: z.string().optional() });
export type Check = z.infer<typeof CheckSchema>;

const ExpectedSchema = z.object({
  suite: z.string(),
  reasons: z.record(z.string(), z.string()),
  expected: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.string()))),
});

/** Why the suite cannot run here (npx could not fetch Node 22 or the suite), or undefined when it can. */
export async function suiteUnavailable(): Promise<string | undefined> {
  const probe = await execa('npx', [...SUITE, '--version'], { reject: false, timeout: 300_000 });
  if (probe.exitCode === 0) return undefined;
  return `conformance suite not run: Node 22 / ${CONFORMANCE_PACKAGE} could not be fetched through npx (${(probe.stderr || probe.stdout).split('\n').slice(-3).join(' ')})`;
}

export interface SuiteRun {
  /** `scenario/checkId` -> the statuses of every check with that id in that scenario. */
  checks: Map<string, Check[]>;
  scenarios: number;
  statuses: Record<string, number>;
  total: string | undefined;
  seconds: number;
}

/** Runs `conformance server --suite all --spec-version <revision>` against `url` and reads every checks.json. */
export async function runSuite(t: Test, url: string, revision: Revision): Promise<SuiteRun> {
  const out = mkdtempSync(join(tmpdir(), 'mm-conformance-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const started = performance.now();
  const run = await execa('npx', [...SUITE, 'server', '--url', url, '--suite', 'all', '--spec-version', revision, '-o', out], { reject: false, timeout: 300_000 });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const checks = new Map<string, Check[]>();
  const statuses: Record<string, number> = {};
  const dirs = readdirSync(out);
  for (const dir of dirs) {
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T/.exec(dir)?.[1] ?? dir;
    for (const check of z.array(CheckSchema).parse(JSON.parse(readFileSync(join(out, dir, 'checks.json'), 'utf8')))) {
      const key = `${scenario}/${check.id}`;
      checks.set(key, [...(checks.get(key) ?? []), check]);
      statuses[check.status] = (statuses[check.status] ?? 0) + 1;
    }
  }
  if (dirs.length === 0) t.comment(`suite output:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
  return { checks, scenarios: dirs.length, statuses, total: /^Total: \d+ passed, \d+ failed$/m.exec(run.stdout)?.[0], seconds };
}

/** A check id fails when any of its checks is FAILURE or WARNING; INFO and SKIPPED neither pass nor fail. */
function failing(checks: Check[]): Check | undefined {
  return checks.find((check) => check.status === 'FAILURE') ?? checks.find((check) => check.status === 'WARNING');
}

export function loadExpected(target: Target, revision: Revision): { list: Record<string, string>; reasons: Record<string, string> } {
  const file = ExpectedSchema.parse(JSON.parse(readFileSync(join(root, 'test/fixtures/conformance-expected.json'), 'utf8')));
  if (file.suite !== CONFORMANCE_PACKAGE) throw new Error(`conformance-expected.json was measured with ${file.suite}, the tests run ${CONFORMANCE_PACKAGE}`);
  const list = file.expected[target]?.[revision] ?? {};
  for (const [key, reason] of Object.entries(list)) {
    if (!file.reasons[reason]) throw new Error(`conformance-expected.json: ${target} ${revision} ${key} names reason "${reason}", which is not in "reasons"`);
  }
  return { list, reasons: file.reasons };
}

/** Splits a run's check ids into: failing but not listed, listed but passing, listed but not run. */
export function compareWithExpected(checks: Map<string, Check[]>, list: Record<string, string>) {
  const unexpected: string[] = [];
  const nowPassing: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const [key, sameId] of checks) {
    const failure = failing(sameId);
    if (failure) failed++;
    else if (sameId.some((check) => check.status === 'SUCCESS')) passed++;
    if (failure && !(key in list)) unexpected.push(`${key}: ${failure.status} ${(failure.errorMessage ?? '').slice(0, 200)}`);
    // A check listed for a timing reason (`unstable-...`) may pass; any other listed check must still fail.
    if (!failure && key in list && !list[key]?.startsWith('unstable-')) nowPassing.push(key);
  }
  const notRun = Object.keys(list).filter((key) => !checks.has(key));
  return { unexpected, nowPassing, notRun, passed, failed };
}

/**
 * Asserts: every check id not listed for (target, revision) passes; every listed one still fails.
 * On a mismatch it prints the lines to add to or remove from conformance-expected.json.
 */
export function judge(t: Test, run: SuiteRun, target: Target, revision: Revision): void {
  const { list, reasons } = loadExpected(target, revision);
  t.ok(run.scenarios > 0, `the suite ran (${run.scenarios} scenarios, ${run.total ?? 'no total printed'})`);
  const { unexpected, nowPassing, notRun, passed, failed } = compareWithExpected(run.checks, list);
  t.same(unexpected, [], `${target} at ${revision}: every check passes except the ${Object.keys(list).length} listed in conformance-expected.json`);
  t.same(
    nowPassing,
    [],
    nowPassing.length
      ? `${target} at ${revision}: these listed checks now PASS, remove them from conformance-expected.json: ${JSON.stringify(nowPassing)}`
      : `${target} at ${revision}: every listed check still fails`,
  );
  t.same(notRun, [], notRun.length ? `${target} at ${revision}: these listed checks did not run, remove them: ${JSON.stringify(notRun)}` : `${target} at ${revision}: every listed check ran`);
  const byReason: Record<string, number> = {};
  for (const reason of Object.values(list)) byReason[reason] = (byReason[reason] ?? 0) + 1;
  t.comment(
    `${target} at ${revision}: ${passed} check ids pass, ${failed} fail (expected: ${Object.keys(list).length}: ${
      Object.entries(byReason)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ') || 'none'
    }); statuses ${JSON.stringify(run.statuses)}; suite ${run.total ?? '?'}; ${run.seconds} s`,
  );
  if (unexpected.length) t.comment(`reasons available: ${Object.keys(reasons).join(', ')}`);
  // CONFORMANCE_RECORD=<file>: append this run's failing check ids (one JSON line) to re-measure the list.
  const record = process.env.CONFORMANCE_RECORD;
  if (record) {
    const failingKeys = [...run.checks].filter(([, checks]) => failing(checks)).map(([key, checks]) => [key, `${failing(checks)?.status}: ${(failing(checks)?.errorMessage ?? '').slice(0, 160)}`]);
    appendFileSync(record, `${JSON.stringify({ target, revision, failing: Object.fromEntries(failingKeys) })}\n`);
  }
}
