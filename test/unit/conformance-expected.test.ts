import t from 'tap';
import { compareWithExpected, loadExpected, REVISIONS, type Check } from '../helpers/conformance.js';

// The expected-failures list can only shrink: a listed check that passes, or no longer runs, is
// reported, as is an unlisted failing one (test/fixtures/CONFORMANCE.md §9).
const run = (entries: Record<string, Check['status'][]>) => new Map(Object.entries(entries).map(([key, statuses]) => [key, statuses.map((status) => ({ id: key.split('/')[1] ?? key, status }))]));

t.test('an unlisted FAILURE or WARNING is unexpected; INFO and SKIPPED are neither', async (t) => {
  const result = compareWithExpected(run({ 'a/x': ['SUCCESS'], 'a/y': ['SUCCESS', 'FAILURE'], 'b/z': ['WARNING'], 'c/i': ['INFO'], 'c/s': ['SKIPPED'] }), {});
  t.same(
    result.unexpected.map((line) => line.split(':')[0]),
    ['a/y', 'b/z'],
  );
  t.equal(result.passed, 1);
  t.equal(result.failed, 2);
});

t.test('a listed check that passes or did not run is reported, so the list is kept honest', async (t) => {
  const result = compareWithExpected(run({ 'a/x': ['SUCCESS'], 'a/y': ['FAILURE'] }), { 'a/x': 'why', 'a/y': 'why', 'gone/q': 'why' });
  t.same(result.unexpected, []);
  t.same(result.nowPassing, ['a/x']);
  t.same(result.notRun, ['gone/q']);
});

t.test('conformance-expected.json names a known reason for every entry of every target', async (t) => {
  for (const target of ['sidecar-legacy', 'sidecar-modern', 'proxy-direct', 'proxy-mapped'] as const) {
    for (const revision of REVISIONS) t.doesNotThrow(() => loadExpected(target, revision), `${target} ${revision}`);
  }
});

t.test('a check listed for a timing reason (unstable-...) may pass; it must still run', async (t) => {
  const result = compareWithExpected(run({ 'a/x': ['SUCCESS'], 'a/y': ['WARNING'] }), { 'a/x': 'unstable-timing', 'a/y': 'unstable-timing', 'gone/q': 'unstable-timing' });
  t.same(result.unexpected, []);
  t.same(result.nowPassing, [], 'an unstable check that passed is not reported');
  t.same(result.notRun, ['gone/q'], 'an unstable check that no longer runs is');
});
