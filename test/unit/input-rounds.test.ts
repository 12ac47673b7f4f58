import t, { type Test } from 'tap';
import type { JSONRPCRequest, ServerContext } from '@modelcontextprotocol/server';
import { Bridge } from '../../src/bridge/bridge.js';
import { InputRounds } from '../../src/era/input-rounds.js';
import { ModernCall } from '../../src/era/modern-call.js';
import { waitFor } from '../helpers/processes.js';
import { RecordingChild } from '../helpers/recording-child.js';

// Held calls of MRTR with the bridge's child in memory.
function setup(t: Test, rounds: InputRounds, clock: { now: number } = { now: 0 }) {
  const bridge = new Bridge({ name: 'svc', deadlineMs: 60_000, now: () => clock.now });
  const child = new RecordingChild();
  bridge.attach(child);
  t.teardown(() => {
    rounds.closeAll();
    bridge.close();
  });
  let next = 1;
  // A modern tools/call whose child asks its client for sampling at once.
  const askingCall = () => {
    const call = new ModernCall(bridge, { jsonrpc: '2.0', id: `c${next}`, method: 'tools/call', params: { name: 'ask' } }).start();
    const ask: JSONRPCRequest = { jsonrpc: '2.0', id: `s${next++}`, method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } };
    child.say(ask);
    return { call, ask };
  };
  return { bridge, child, askingCall };
}

const sampling = { sampling: {} };

t.test('a held call the client never retries is cancelled at its deadline, and its state refused', async (t) => {
  const rounds = new InputRounds({ ttlMs: 30 });
  const { child, askingCall } = setup(t, rounds);
  const { call, ask } = askingCall();
  const outcome = await rounds.settle(call, sampling);
  t.equal(outcome.kind, 'input');
  if (outcome.kind !== 'input') return;
  t.match(outcome.inputRequests, { 'input-1': { method: 'sampling/createMessage' } });
  t.equal(rounds.size, 1);
  await waitFor(() => rounds.size === 0, 'the held call expires');
  t.match(
    child.sent,
    [{ method: 'tools/call' }, { method: 'notifications/cancelled', params: { requestId: call.childId } }, { id: ask.id, error: {} }],
    'the child hears the cancellation and a refusal of its question',
  );
  const payload = await rounds.verify(outcome.requestState, {} as ServerContext);
  t.throws(() => rounds.resume(payload, 'tools/call', 'ask', {}), /no call waiting for input/);
});

t.test('beyond maxHeld calls waiting for input, the next one is refused and its child call cancelled', async (t) => {
  const rounds = new InputRounds({ maxHeld: 1 });
  const { child, askingCall } = setup(t, rounds);
  const first = askingCall();
  t.equal((await rounds.settle(first.call, sampling)).kind, 'input');
  const second = askingCall();
  const refused = await rounds.settle(second.call, sampling);
  t.equal(refused.kind, 'answer');
  if (refused.kind === 'answer') t.match(refused.message, { error: { message: /1 calls are already waiting for input/ } });
  t.ok(
    child.sent.some((m) => 'method' in m && m.method === 'notifications/cancelled' && m.params?.requestId === second.call.childId),
    'the second call is cancelled',
  );
  t.equal(rounds.size, 1);
});

t.test('a retry on another tool than the held call is refused', async (t) => {
  const rounds = new InputRounds();
  const { askingCall } = setup(t, rounds);
  const { call } = askingCall();
  const outcome = await rounds.settle(call, sampling);
  if (outcome.kind !== 'input') return t.fail('expected input');
  const payload = await rounds.verify(outcome.requestState, {} as ServerContext);
  t.throws(() => rounds.resume(payload, 'tools/call', 'other', {}), /belongs to tools\/call "ask"/);
});

t.test("waiting for the client's input does not count against the bridge deadline; the answer restarts it", async (t) => {
  const clock = { now: 0 };
  const rounds = new InputRounds({ ttlMs: 300_000 });
  const { bridge, child, askingCall } = setup(t, rounds, clock);
  const expire = () => (bridge as unknown as { expire(): void }).expire();
  const cancelled = () => child.sent.filter((m) => 'method' in m && m.method === 'notifications/cancelled').length;
  const { call, ask } = askingCall();
  const outcome = await rounds.settle(call, sampling);
  if (outcome.kind !== 'input') return t.fail('expected input');
  clock.now += 120_000; // twice the 60 s deadline, well within the 300 s wait for input
  expire();
  t.equal(cancelled(), 0, 'still pending while the client answers');
  const payload = await rounds.verify(outcome.requestState, {} as ServerContext);
  rounds.resume(payload, 'tools/call', 'ask', { 'input-1': { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' } });
  t.match(child.sent[child.sent.length - 1], { id: ask.id, result: { model: 'm' } }, 'the answer reaches the child');
  clock.now += 59_000;
  expire();
  t.equal(cancelled(), 0, 'a fresh 60 s after the answer');
  clock.now += 2_000;
  expire();
  t.equal(cancelled(), 1, 'then the deadline applies again');
});

t.test('requests the child sends in separate reads during one gather window go out in one round', async (t) => {
  const rounds = new InputRounds();
  const { bridge, child } = setup(t, rounds);
  // A wide window, so the test does not depend on how fast the three reads follow each other.
  const call = new ModernCall(bridge, { jsonrpc: '2.0', id: 'm1', method: 'tools/call', params: { name: 'multi' } }, 500).start();
  const settled = rounds.settle(call, { sampling: {}, elicitation: {}, roots: {} });
  const asks: JSONRPCRequest[] = [
    { jsonrpc: '2.0', id: 'e1', method: 'elicitation/create', params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } } },
    { jsonrpc: '2.0', id: 's1', method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } },
    { jsonrpc: '2.0', id: 'r1', method: 'roots/list' },
  ];
  for (const ask of asks) {
    child.say(ask);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const outcome = await settled;
  t.equal(outcome.kind, 'input');
  if (outcome.kind !== 'input') return;
  t.same(
    Object.values(outcome.inputRequests).map((request) => request.method),
    ['elicitation/create', 'sampling/createMessage', 'roots/list'],
  );
});

t.test('of requests asked together, the declared go to the client and the undeclared are refused to the child; none declared: -32021', async (t) => {
  const rounds = new InputRounds();
  const { bridge, child } = setup(t, rounds);
  const ask = (id: string, method: string): JSONRPCRequest => ({
    jsonrpc: '2.0',
    id,
    method,
    params: { message: 'm', requestedSchema: { type: 'object', properties: {} }, messages: [], maxTokens: 5 },
  });
  const mixed = new ModernCall(bridge, { jsonrpc: '2.0', id: 'x1', method: 'tools/call', params: { name: 'mixed' } }).start();
  child.say(ask('e1', 'elicitation/create'));
  child.say(ask('s1', 'sampling/createMessage'));
  const outcome = await rounds.settle(mixed, { sampling: {} });
  t.equal(outcome.kind, 'input');
  if (outcome.kind === 'input')
    t.same(
      Object.values(outcome.inputRequests).map((request) => request.method),
      ['sampling/createMessage'],
    );
  t.match(
    child.sent.find((message) => 'id' in message && message.id === 'e1'),
    { error: { message: /did not declare the elicitation capability/ } },
    'the child hears why',
  );

  const none = new ModernCall(bridge, { jsonrpc: '2.0', id: 'x2', method: 'tools/call', params: { name: 'needy' } }).start();
  child.say(ask('e2', 'elicitation/create'));
  child.say(ask('r2', 'roots/list'));
  const refused = await rounds.settle(none, { sampling: {} });
  t.match(refused, { kind: 'answer', message: { id: 'x2', error: { code: -32021, data: { requiredCapabilities: { elicitation: {}, roots: {} } } } } });
  const cancelled = child.sent.filter((message) => 'method' in message && message.method === 'notifications/cancelled');
  t.match(cancelled, [{ params: { requestId: none.childId } }], "the child's call is cancelled");
});
