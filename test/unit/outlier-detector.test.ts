// The circuit breakers' state machine on an injected clock: ejection after consecutive instance
// failures, ejection time growing with each ejection, the half-open probe, the ejection limit that
// never ejects a service's last replica, and what counts as an instance's fault.
import t from 'tap';
import { ProtocolErrorCode } from '@modelcontextprotocol/client';
import { MeshError } from '../../src/errors.js';
import { classifyFailure } from '../../proxy/router/failure-fault.js';
import { OutlierDetector, type CircuitEvent, type Outcome } from '../../proxy/router/outlier-detector.js';
import { ejectableCount, OutlierPolicySchema } from '../../proxy/router/outlier-policy.js';

function detector(policy = {}) {
  const clock = { now: 1_000_000 };
  const events: CircuitEvent[] = [];
  const outliers = new OutlierDetector({ policy: { consecutiveFailures: 3, baseEjectionMs: 10_000, maxEjectionMs: 25_000, ...policy }, now: () => clock.now, onEvent: (e) => events.push(e) });
  // One routed request to `id` with the given outcome.
  const call = (id: string, outcome: Outcome) => outliers.record(outliers.admit('fs', id), outcome, outcome === 'failure' ? `${id} refused` : undefined);
  const state = (id: string, replicas = [id]) => outliers.describe(replicas.map((r) => ({ id: r, status: 'healthy' }))).get(id);
  return { clock, events, outliers, call, state };
}

const pair = [{ id: 'a' }, { id: 'b' }];
const ids = (list: { id: string }[]) => list.map((r) => r.id);

t.test('consecutive failures eject; a success in between starts the count again', async (t) => {
  const { outliers, call, state, events } = detector();
  call('a', 'failure');
  call('a', 'failure');
  call('a', 'success');
  call('a', 'failure');
  call('a', 'failure');
  t.same(ids(outliers.routable('fs', pair)), ['a', 'b'], 'two in a row: still routed');
  t.match(state('a'), { state: 'closed', consecutiveFailures: 2 });
  call('a', 'failure');
  t.same(ids(outliers.routable('fs', pair)), ['b'], 'third in a row: ejected');
  t.match(state('a', ['a', 'b']), { state: 'open', consecutiveFailures: 3, ejections: 1, ejectedUntil: 1_010_000, kept: false, lastFailure: 'a refused' });
  t.match(events, [{ type: 'ejected', service: 'fs', instance: 'a', failures: 3, ejections: 1, forMs: 10_000, reason: 'a refused' }]);
});

t.test('ignored outcomes neither count nor reset', async (t) => {
  const { outliers, call } = detector();
  call('a', 'failure');
  call('a', 'ignore');
  call('a', 'failure');
  call('a', 'ignore');
  call('a', 'failure');
  t.same(ids(outliers.routable('fs', pair)), ['b']);
});

t.test('after the ejection time one probe goes through; success closes, failure ejects for longer', async (t) => {
  const { outliers, call, clock, state, events } = detector();
  for (let i = 0; i < 3; i++) call('a', 'failure');
  clock.now += 9_999;
  t.same(ids(outliers.routable('fs', pair)), ['b'], 'still open a millisecond before the end');
  clock.now += 1;
  t.equal(state('a', ['a', 'b'])?.state, 'half-open');
  t.same(ids(outliers.routable('fs', pair)), ['a', 'b'], 'half-open: routable');
  const probe = outliers.admit('fs', 'a');
  t.equal(probe.probe, true, 'the first request is the probe');
  t.same(ids(outliers.routable('fs', pair)), ['b'], 'no second request while the probe is in flight');
  outliers.record(probe, 'failure', 'still refused');
  t.match(state('a', ['a', 'b']), { state: 'open', ejections: 2, ejectedUntil: clock.now + 20_000 }, 'the second ejection lasts twice as long');
  clock.now += 20_000;
  outliers.record(outliers.admit('fs', 'a'), 'failure');
  t.match(state('a', ['a', 'b']), { state: 'open', ejections: 3, ejectedUntil: clock.now + 25_000 }, 'capped at the maximum ejection time');
  clock.now += 25_000;
  const second = outliers.admit('fs', 'a');
  outliers.record(second, 'success');
  t.match(state('a', ['a', 'b']), { state: 'closed', consecutiveFailures: 0, ejectedUntil: undefined });
  t.same(ids(outliers.routable('fs', pair)), ['a', 'b'], 'a successful probe brings it back');
  t.same(
    events.map((e) => e.type),
    ['ejected', 'ejected', 'ejected', 'restored'],
  );
});

t.test('an ignored probe frees the probe slot and leaves the state alone', async (t) => {
  const { outliers, call, clock, state } = detector();
  for (let i = 0; i < 3; i++) call('a', 'failure');
  clock.now += 10_000;
  outliers.record(outliers.admit('fs', 'a'), 'ignore');
  t.equal(state('a', ['a', 'b'])?.state, 'half-open');
  t.equal(outliers.admit('fs', 'a').probe, true, 'the next request is the probe');
});

t.test('a request that started before the ejection moves no state', async (t) => {
  const { outliers, call, state } = detector();
  const early = outliers.admit('fs', 'a');
  for (let i = 0; i < 3; i++) call('a', 'failure');
  outliers.record(early, 'success');
  t.equal(state('a', ['a', 'b'])?.state, 'open', 'a late success does not close the circuit');
});

t.test('ejections are forgiven one per base ejection time spent closed', async (t) => {
  const { outliers, call, clock, state } = detector({ maxEjectionMs: 1_000_000 });
  for (let i = 0; i < 3; i++) call('a', 'failure');
  clock.now += 10_000;
  call('a', 'failure');
  clock.now += 20_000;
  call('a', 'success');
  t.equal(state('a')?.ejections, 2);
  clock.now += 10_000;
  t.equal(state('a')?.ejections, 1, 'one forgiven after one base ejection time');
  for (let i = 0; i < 3; i++) call('a', 'failure');
  t.match(state('a', ['a', 'b']), { ejections: 2, ejectedUntil: clock.now + 20_000 });
  void outliers;
});

t.test('the last healthy replica is never ejected silently: it stays routed, marked kept', async (t) => {
  const { outliers, call, state, events } = detector();
  for (let i = 0; i < 3; i++) call('a', 'failure');
  t.same(ids(outliers.routable('fs', [{ id: 'a' }])), ['a'], 'a lone replica is still routed');
  t.match(state('a'), { state: 'open', kept: true });
  t.match(events.at(-1), { type: 'kept', service: 'fs', instance: 'a', reason: 'a refused' });
  outliers.routable('fs', [{ id: 'a' }]);
  t.equal(events.filter((e) => e.type === 'kept').length, 1, 'said once per ejection');
  t.same(ids(outliers.routable('fs', pair)), ['b'], 'a second replica joins: the ejection applies');
  call('a', 'success');
  t.match(state('a'), { state: 'closed', kept: false }, 'a kept replica that answers is closed again');
});

t.test('at most maxEjectionPercent of the healthy replicas are ejected; the earliest ejected stay out', async (t) => {
  const { outliers, call, clock, state } = detector({ maxEjectionPercent: 50 });
  const four = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
  for (const id of ['c', 'a', 'b']) {
    for (let i = 0; i < 3; i++) call(id, 'failure');
    clock.now += 1;
  }
  t.same(ids(outliers.routable('fs', four)), ['b', 'd'], 'two of four ejected (c, a: the first two); b is kept');
  t.match(state('b', ['a', 'b', 'c', 'd']), { state: 'open', kept: true });
  t.same(ids(outliers.routable('fs', pair)), ['b'], 'with two replicas, one may be ejected');
});

t.test('ejectable counts: at least one, never all', async (t) => {
  const policy = OutlierPolicySchema.parse({ maxEjectionPercent: 10 });
  t.same(
    [1, 2, 3, 10, 20].map((n) => ejectableCount(policy, n)),
    [0, 1, 1, 1, 2],
  );
  const all = OutlierPolicySchema.parse({ maxEjectionPercent: 100 });
  t.same(
    [1, 2, 5].map((n) => ejectableCount(all, n)),
    [0, 1, 4],
  );
  t.same(OutlierPolicySchema.parse({}), { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 }, 'the defaults');
});

t.test('forget drops an instance that left; a request admitted before says nothing about its successor', async (t) => {
  const { outliers, call, state } = detector();
  const before = outliers.admit('fs', 'a');
  for (let i = 0; i < 3; i++) call('a', 'failure');
  outliers.forget('a');
  t.match(state('a', ['a', 'b']), { state: 'closed', consecutiveFailures: 0 });
  t.same(outliers.states(), []);
  call('a', 'failure');
  outliers.record(before, 'failure');
  t.equal(state('a')?.consecutiveFailures, 1, "the old request's failure is not counted");
});

t.test('a probe still in flight when another request re-ejects the instance frees its slot on return', async (t) => {
  const { outliers, call, clock, state } = detector();
  for (let i = 0; i < 3; i++) call('a', 'failure');
  clock.now += 10_000;
  const probe = outliers.admit('fs', 'a');
  t.equal(probe.probe, true);
  call('a', 'failure');
  t.equal(state('a', ['a', 'b'])?.state, 'open', 'a kept request failed while half-open: ejected again');
  outliers.record(probe, 'success');
  t.equal(state('a', ['a', 'b'])?.state, 'open', 'the late probe moves no state');
  clock.now += 20_000;
  t.equal(outliers.admit('fs', 'a').probe, true, 'but its slot is free for the next probe');
});

t.test('what counts against an instance', async (t) => {
  const proxy = { deadlineMs: 60_000, proxyDeadlineMs: 60_000, hops: 0 };
  const error = (code: ConstructorParameters<typeof MeshError>[0], context = {}) => new MeshError(code, 'x', { context });
  t.equal(classifyFailure(error('SERVICE_UNAVAILABLE'), proxy), 'instance', 'unreachable, reset, closed');
  t.equal(classifyFailure(error('CHILD_EXITED'), proxy), 'instance', 'the child died');
  t.equal(classifyFailure(error('CALL_TIMEOUT'), proxy), 'instance', "no answer within the proxy's own deadline");
  t.equal(classifyFailure(error('CALL_TIMEOUT'), { deadlineMs: 100, proxyDeadlineMs: 60_000, hops: 0 }), 'caller', 'a deadline the caller shortened');
  t.equal(classifyFailure(error('CALL_TIMEOUT'), { deadlineMs: 100, proxyDeadlineMs: 60_000, hops: 1 }), 'instance', "what was left of a calling service's deadline");
  t.equal(classifyFailure(error('TOOL_ERROR', { rpcCode: ProtocolErrorCode.InvalidParams }), proxy), 'caller', '-32602: bad arguments');
  t.equal(classifyFailure(error('TOOL_ERROR', { rpcCode: ProtocolErrorCode.MethodNotFound }), proxy), 'caller', '-32601: unknown tool or method');
  t.equal(classifyFailure(error('TOOL_ERROR', { rpcCode: ProtocolErrorCode.InternalError }), proxy), 'answered', 'the instance answered an error of its own');
  t.equal(classifyFailure(error('PAYLOAD_TOO_LARGE', { limitBytes: 1024 }), proxy), 'answered', 'an answer over a size limit: the instance ran');
  for (const code of ['BAD_REQUEST', 'TOOL_NOT_FOUND', 'CALL_CANCELLED', 'LOOP_DETECTED'] as const) {
    t.equal(classifyFailure(error(code), proxy), 'caller', code);
  }
});
