import t from 'tap';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import { Bridge } from '../../src/bridge/bridge.js';
import type { BridgeSession } from '../../src/bridge/bridge-session.js';
import type { Reply } from '../../src/bridge/types.js';
import { MeshError } from '../../src/errors.js';
import { RecordingChild } from '../helpers/recording-child.js';

/** What one client session saw: answers through its Reply, and everything else on its channel. */
class FakeClient {
  readonly answers: JSONRPCMessage[] = [];
  readonly related: JSONRPCMessage[] = [];
  readonly channel: { message: JSONRPCMessage; relatedTo: RequestId | undefined }[] = [];
  readonly session: BridgeSession;
  private waiters: (() => void)[] = [];

  constructor(bridge: Bridge, id: string) {
    this.session = bridge.openSession(id, { send: (message, relatedTo) => this.channel.push({ message, relatedTo }) });
  }

  reply(withRelated = true): Reply {
    return {
      respond: (message) => {
        this.answers.push(message);
        for (const wake of this.waiters.splice(0)) wake();
      },
      ...(withRelated ? { related: (message: JSONRPCMessage) => this.related.push(message) } : {}),
    };
  }

  call(id: RequestId, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>, withRelated = true) {
    const params: Record<string, unknown> = { name, arguments: args };
    if (meta) params._meta = meta;
    this.session.receive({ jsonrpc: '2.0', id, method: 'tools/call', params }, this.reply(withRelated));
  }

  /** Resolves once `count` answers have arrived (the deadline sweeper answers asynchronously, from an unref'd timer). */
  async waitForAnswers(count: number, timeoutMs = 5_000): Promise<void> {
    // The ref'd guard timer keeps the process alive while waiting, and fails the test instead of hanging it.
    let guard: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error(`only ${this.answers.length} of ${count} answers within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (this.answers.length < count) await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), expired]);
    } finally {
      clearTimeout(guard);
    }
  }
}

function setup(options: { deadlineMs?: number; now?: () => number } = {}) {
  const bridge = new Bridge({ name: 'svc', deadlineMs: options.deadlineMs ?? 60_000, ...(options.now ? { now: options.now } : {}) });
  const child = new RecordingChild();
  bridge.attach(child);
  bridge.serverInit = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } };
  t.teardown(() => bridge.close());
  return { bridge, child };
}

t.test('request ids are rewritten to fresh child ids and restored on the way back', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(1, 'echo', { text: 'from A' });
  b.call(1, 'echo', { text: 'from B' });
  const [ra, rb] = child.requests('tools/call');
  t.ok(ra && rb);
  t.not(ra!.id, rb!.id, 'two sessions using the same id get distinct child ids');
  t.same(ra!.params, { name: 'echo', arguments: { text: 'from A' } }, 'params pass unchanged');
  t.equal(bridge.stats.inflight, 2);
  // The child answers in the opposite order.
  child.say({ jsonrpc: '2.0', id: rb!.id, result: { content: [{ type: 'text', text: 'from B' }] } });
  child.say({ jsonrpc: '2.0', id: ra!.id, result: { content: [{ type: 'text', text: 'from A' }] } });
  t.same(a.answers, [{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'from A' }] } }]);
  t.same(b.answers, [{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'from B' }] } }]);
  t.equal(a.session.inflight.size, 0, 'nothing left in flight');
  t.same(bridge.stats, { sessions: 2, inflight: 0, forwarded: 2, failed: 0, timeouts: 0 });
  child.say({ jsonrpc: '2.0', id: ra!.id, result: {} });
  t.equal(a.answers.length, 1, 'a duplicate answer from the child is dropped');
});

t.test('answers never cross sessions, in any order', async (t) => {
  const { bridge, child } = setup();
  const clients = Array.from({ length: 20 }, (_, i) => new FakeClient(bridge, `s${i}`));
  for (const [i, client] of clients.entries()) for (let j = 0; j < 5; j++) client.call(`call-${j}`, 'echo', { text: `client-${i}-call-${j}` });
  const sent = child.requests('tools/call');
  t.equal(sent.length, 100);
  t.equal(new Set(sent.map((r) => r.id)).size, 100, 'every child id is unique');
  // Answer in a scrambled but deterministic order, echoing what the child was asked.
  const order = sent.map((_, k) => (k * 37) % sent.length);
  for (const k of order) {
    const request = sent[k]!;
    const text = (request.params!.arguments as { text: string }).text;
    child.say({ jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text }] } });
  }
  for (const [i, client] of clients.entries()) {
    t.equal(client.answers.length, 5, `client ${i} got 5 answers`);
    for (const answer of client.answers) {
      const id = (answer as { id: string }).id;
      const text = (answer as unknown as { result: { content: { text: string }[] } }).result.content[0]!.text;
      t.equal(text, `client-${i}-${id}`, `client ${i} ${id}`);
    }
  }
});

t.test('progress tokens: the child sees the bridge id, the client gets its own token back', async (t) => {
  let now = 1_000;
  const { bridge, child } = setup({ deadlineMs: 5_000, now: () => now });
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(7, 'progress', { steps: 2 }, { progressToken: 'tok-a' });
  b.call(7, 'progress', { steps: 2 }, { progressToken: 'tok-b' });
  const [ra, rb] = child.requests('tools/call');
  const metaA = ra!.params!._meta as { progressToken: unknown };
  t.equal(metaA.progressToken, ra!.id, "the child's token is the bridge's request id");
  t.equal((rb!.params!._meta as { progressToken: unknown }).progressToken, rb!.id);
  now += 4_000;
  child.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: ra!.id, progress: 1, total: 2 } });
  child.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: rb!.id, progress: 2, total: 2 } });
  child.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 99_999, progress: 1 } });
  t.same(a.related, [{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-a', progress: 1, total: 2 } }]);
  t.same(b.related, [{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-b', progress: 2, total: 2 } }]);
  t.same(a.channel, [], 'progress for an unknown token goes nowhere');
  // Progress moved A's deadline: 4 s after the last progress it is still alive although 8 s have passed since the call.
  now += 4_000;
  child.say({ jsonrpc: '2.0', id: ra!.id, result: { content: [] } });
  t.same(a.answers, [{ jsonrpc: '2.0', id: 7, result: { content: [] } }], 'answered, not timed out');
});

t.test('without a Reply.related, related messages go on the session channel tagged with the request id', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  a.call('r1', 'progress', {}, { progressToken: 5 }, false);
  const [request] = child.requests('tools/call');
  child.say({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: request!.id, progress: 1 } });
  t.same(a.channel, [{ message: { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 5, progress: 1 } }, relatedTo: 'r1' }]);
});

t.test('requests from the child go to the session whose request is in flight, and only it may answer', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(1, 'sample');
  b.call(1, 'echo', { text: 'quick' });
  const [ra, rb] = child.requests('tools/call');
  child.say({ jsonrpc: '2.0', id: rb!.id, result: { content: [] } }); // B is done; A still waits
  const sampling: JSONRPCMessage = { jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } };
  child.say(sampling);
  t.same(a.related, [sampling], "A, whose call is in flight, is asked on its call's stream");
  t.same(b.related, [], 'B is not asked');
  t.same(b.channel, []);
  // B tries to answer A's server request: dropped.
  b.session.receive({ jsonrpc: '2.0', id: 'srv-1', result: { model: 'intruder', role: 'assistant', content: { type: 'text', text: 'no' } } });
  t.same(
    child.sent.filter((m) => 'result' in m),
    [],
    "B's answer never reaches the child",
  );
  a.session.receive({ jsonrpc: '2.0', id: 'srv-1', result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'yes' } } });
  t.same(
    child.sent.filter((m) => 'result' in m),
    [{ jsonrpc: '2.0', id: 'srv-1', result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'yes' } } }],
  );
  a.session.receive({ jsonrpc: '2.0', id: 'srv-1', result: {} });
  t.equal(child.sent.filter((m) => 'result' in m).length, 1, 'a second answer to the same request is dropped');
  child.say({ jsonrpc: '2.0', id: ra!.id, result: { content: [] } });
  t.equal(a.answers.length, 1);
});

t.test('ping from the child is answered by the bridge; a request with no session connected is refused', async (t) => {
  const { bridge, child } = setup();
  child.say({ jsonrpc: '2.0', id: 'p1', method: 'ping' });
  t.same(child.sent.at(-1), { jsonrpc: '2.0', id: 'p1', result: {} });
  child.say({ jsonrpc: '2.0', id: 'r1', method: 'roots/list' });
  const refused = child.sent.at(-1) as { id: unknown; error: { message: string } };
  t.equal(refused.id, 'r1');
  t.match(refused.error.message, /no MCP client is connected to answer roots\/list/);
  void bridge;
});

t.test('log messages go to the session with a request in flight; with none they are broadcast', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  const log: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } };
  child.say(log);
  t.equal(a.channel.length, 1);
  t.equal(b.channel.length, 1, 'broadcast while idle');
  b.call(1, 'log');
  child.say(log);
  t.same(b.related, [log], 'delivered with the request of B');
  t.equal(a.channel.length, 1, 'A does not see it');
});

t.test('list_changed is broadcast and reported to the owner; resources/updated only to subscribers', async (t) => {
  const seen: string[] = [];
  const bridge = new Bridge({ name: 'svc', deadlineMs: 60_000, onChildNotification: (n) => seen.push(n.method) });
  t.teardown(() => bridge.close());
  const child = new RecordingChild();
  bridge.attach(child);
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  child.say({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  t.equal(a.channel.length + b.channel.length, 2);
  t.same(seen, ['notifications/tools/list_changed']);
  a.session.receive({ jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'file://a' } }, a.reply());
  const [sub] = child.requests('resources/subscribe');
  child.say({ jsonrpc: '2.0', id: sub!.id, result: {} });
  b.session.receive({ jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'file://a' } }, b.reply());
  t.equal(child.requests('resources/subscribe').length, 1, 'the second subscription to one URI is answered by the bridge');
  t.equal(b.answers.length, 1);
  child.say({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file://a' } });
  child.say({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file://other' } });
  const updates = (client: FakeClient) => client.channel.filter((c) => 'method' in c.message && c.message.method === 'notifications/resources/updated');
  t.equal(updates(a).length, 1);
  t.equal(updates(b).length, 1);
  t.same([...bridge.subscribedUris()], ['file://a']);
});

t.test('the deadline fails the call with -32001 and cancels it at the child', async (t) => {
  let now = 0;
  const { bridge, child } = setup({ deadlineMs: 1_000, now: () => now });
  const a = new FakeClient(bridge, 'A');
  a.call(42, 'hang');
  const [request] = child.requests('tools/call');
  now = 1_001;
  await a.waitForAnswers(1); // the sweeper runs every 250 ms
  const answer = a.answers[0] as { id: unknown; error: { code: number; message: string; data: { code: string; tool: string } } };
  t.equal(answer.id, 42);
  t.equal(answer.error.code, -32001);
  t.match(answer.error.message, /svc: tool "hang" did not answer within 1000 ms/);
  t.equal(answer.error.data.code, 'CALL_TIMEOUT');
  t.same(child.notifications('notifications/cancelled'), [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: request!.id, reason: 'deadline of 1000 ms exceeded' } }]);
  t.equal(bridge.stats.timeouts, 1);
  t.equal(bridge.stats.inflight, 0);
  t.equal(a.session.inflight.size, 0);
  child.say({ jsonrpc: '2.0', id: request!.id, result: { content: [] } });
  t.equal(a.answers.length, 1, 'a late answer is dropped');
});

t.test('a call not yet past its deadline is left alone', async (t) => {
  let now = 0;
  const { bridge, child } = setup({ deadlineMs: 1_000, now: () => now });
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(1, 'hang');
  now = 500;
  b.call(1, 'hang');
  now = 1_200; // A is past its deadline, B is not
  await a.waitForAnswers(1);
  t.equal(b.answers.length, 0, 'B still waits');
  t.equal(bridge.stats.inflight, 1);
  const [, rb] = child.requests('tools/call');
  child.say({ jsonrpc: '2.0', id: rb!.id, result: { content: [] } });
  t.same(b.answers, [{ jsonrpc: '2.0', id: 1, result: { content: [] } }]);
});

t.test('a cancellation from the client reaches the child under the bridge id', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  a.call('c-1', 'sleep', { ms: 5000 });
  const [request] = child.requests('tools/call');
  a.session.receive({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c-1', reason: 'user aborted' } });
  t.same(child.notifications('notifications/cancelled'), [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: request!.id, reason: 'user aborted' } }]);
  t.equal(bridge.stats.inflight, 0);
  a.session.receive({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'unknown', reason: 'x' } });
  t.equal(child.notifications('notifications/cancelled').length, 1, 'cancelling something not in flight sends nothing');
});

t.test('closing a session cancels its calls at the child and leaves the others running', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(1, 'sleep');
  b.call(1, 'sleep');
  const [ra, rb] = child.requests('tools/call');
  a.session.close();
  t.same(
    child.notifications('notifications/cancelled').map((n) => (n as unknown as { params: { requestId: unknown } }).params.requestId),
    [ra!.id],
  );
  t.equal(bridge.sessions.size, 1);
  child.say({ jsonrpc: '2.0', id: ra!.id, result: {} });
  child.say({ jsonrpc: '2.0', id: rb!.id, result: {} });
  t.equal(a.answers.length, 0, 'the closed session gets nothing');
  t.equal(b.answers.length, 1);
});

t.test('detach fails every call in flight at once, later calls get the unavailable error', async (t) => {
  const { bridge, child } = setup();
  const a = new FakeClient(bridge, 'A');
  const b = new FakeClient(bridge, 'B');
  a.call(1, 'die');
  b.call(2, 'echo');
  t.equal(child.requests().length, 2);
  bridge.detach(
    (pending) => new MeshError('CHILD_EXITED', `svc: the server exited with code 7 while handling tool "${pending.tool}"; stderr: dying`),
    () => new MeshError('SERVICE_UNAVAILABLE', 'svc: the server is restarting'),
  );
  t.match(a.answers, [{ id: 1, error: { code: -32000, message: /exited with code 7 while handling tool "die"; stderr: dying/ } }]);
  t.match(b.answers, [{ id: 2, error: { message: /tool "echo"/ } }]);
  t.equal(bridge.stats.inflight, 0);
  t.equal(a.session.inflight.size, 0);
  a.call(3, 'echo');
  t.match(a.answers[1], { id: 3, error: { message: 'svc: the server is restarting', data: { code: 'SERVICE_UNAVAILABLE' } } });
  t.equal(child.requests().length, 2, 'nothing is written to the dead child');
  // initialize is answered by the bridge from the child's initialize result.
  a.session.receive({ jsonrpc: '2.0', id: 'i', method: 'initialize', params: { protocolVersion: '2025-03-26' } });
  t.match(a.channel.at(-1)?.message, { id: 'i', result: { protocolVersion: '2025-03-26', serverInfo: { name: 'fake' } } });
});

t.test('a request of the bridge itself resolves with the result, or rejects with a MeshError', async (t) => {
  const { bridge, child } = setup();
  const listed = bridge.request<{ tools: unknown[] }>('tools/list');
  const failed = bridge.request('resources/list');
  const [list, res] = child.requests();
  child.say({ jsonrpc: '2.0', id: list!.id, result: { tools: [{ name: 'x' }] } });
  child.say({ jsonrpc: '2.0', id: res!.id, error: { code: -32601, message: 'Method not found' } });
  t.same(await listed, { tools: [{ name: 'x' }] });
  await t.rejects(failed, { name: 'MeshError', message: 'Method not found' });
});

t.test('initialize with nothing attached yet is refused as unavailable', async (t) => {
  const bridge = new Bridge({ name: 'svc', deadlineMs: 1000 });
  t.teardown(() => bridge.close());
  const a = new FakeClient(bridge, 'A');
  a.session.receive({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, a.reply());
  t.match(a.answers, [{ id: 1, error: { message: /svc: the server is not running/ } }]);
});
