import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dist, fixture, pollJson } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// Issue 10: "the sidecar finds out what its child speaks (server/discover, else initialize) and
// translates for it; a modern child is spoken to natively". Each child is wrapped unmodified.

t.test('a dual-era v2 SDK child is found modern; a legacy client lists, calls, and answers its elicitation', async (t) => {
  const sidecar = await startSidecar(t, { name: 'dual', command: ['node', dist('test/fixtures/conformance-server-modern.js')] });
  const health = await sidecar.health();
  t.equal(health.childEra, 'modern', 'the sidecar speaks 2026-07-28 to it');
  t.equal(health.probe.outcome, 'answer', `it answered server/discover (${JSON.stringify(health.probe)})`);

  const asked: unknown[] = [];
  const client = await connectClient(t, sidecar.url, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', (request) => {
    asked.push(request.params);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  const init = client.getServerVersion();
  t.equal(init?.name, 'mm-conformance-fixture', 'initialize is answered with the serverInfo of its DiscoverResult');
  t.match(client.getInstructions(), /conformance/, 'and its instructions');

  const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
  t.equal(result.isError, undefined, 'a plain call completes');
  t.notOk('resultType' in result, 'and carries no 2026-07-28 resultType to the legacy client');

  // The child answers with an InputRequiredResult: the sidecar asks the legacy client (elicitation/create)
  // and retries the call with its answer in inputResponses.
  const greeted = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
  t.same(greeted.content, [{ type: 'text', text: 'Hello, Ada!' }], 'the MRTR call completes with the answer the client gave');
  t.equal(asked.length, 1, 'the client was asked once');
  t.match(asked[0], { message: 'What is your name?' }, "with the child's own question");

  // Two rounds, the second's requestState carried back by the sidecar.
  let round = 0;
  client.setRequestHandler('elicitation/create', () => {
    const content: Record<string, string> = ++round === 1 ? { name: 'Ada' } : { color: 'green' };
    return { action: 'accept', content };
  });
  const multi = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} });
  t.equal(round, 2, 'a two-round call asks twice');
  t.match(JSON.stringify(multi.content), /Ada/, `and completes: ${JSON.stringify(multi.content)}`);

  // The session's log level rides on each request's _meta (2026-07-28 has no logging/setLevel).
  const logs: unknown[] = [];
  client.setNotificationHandler('notifications/message', (notification) => void logs.push(notification.params));
  await client.setLoggingLevel('info');
  await client.callTool({ name: 'test_logging_tool', arguments: {} });
  t.match(logs, [{ level: 'info', data: 'test_logging_tool ran' }], 'a log message reaches the client at the level it set');

  // The child's change notifications come on a subscriptions/listen stream; the legacy client gets them unsolicited.
  const changed = new Promise<string>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', (n) => resolve(n.method)));
  await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
  // No timer of its own: the test's timeout ends a wait that never hears it.
  t.equal(await changed, 'notifications/tools/list_changed', 'tools/list_changed reaches the legacy client');
});

t.test('legacy children that ignore or end on the probe still start, speaking initialize', async (t) => {
  const silent = await startSidecar(t, { name: 'silent', command: ['python3', fixture('probe_hostile_server.py'), 'silent'], extra: ['--probe-timeout', '300'] });
  const health = await silent.health();
  t.match(health, { state: 'ready', childEra: 'legacy', probe: { outcome: 'timeout' } }, 'a child silent on server/discover is legacy after the probe deadline');
  const client = await connectClient(t, silent.url);
  t.same((await client.callTool({ name: 'echo', arguments: { text: 'quiet' } })).content, [{ type: 'text', text: 'quiet' }], 'and serves calls');
  // Its restarts do not wait out the probe again: it is known to be a legacy server.
  process.kill(health.pid, 'SIGKILL');
  const restarted = await pollJson(`${silent.base}/healthz`, (status, body) => status === 200 && body.pid !== health.pid && body.state === 'ready');
  t.match(restarted, { childEra: 'legacy', probe: { outcome: 'skipped' } }, 'restarted without the probe');

  const exiting = await startSidecar(t, { name: 'exiting', command: ['python3', fixture('probe_hostile_server.py'), 'exit'], extra: ['--backoff', '50-100'] });
  const after = await exiting.health();
  t.match(after, { state: 'ready', childEra: 'legacy', probe: { outcome: 'skipped' } }, 'a child that ended on the probe is started again, without it');
  const other = await connectClient(t, exiting.url);
  t.same((await other.callTool({ name: 'echo', arguments: { text: 'again' } })).content, [{ type: 'text', text: 'again' }], 'and serves calls');
});

t.test('a legacy child answering the probe costs one round trip and gets everything else unchanged', async (t) => {
  const sidecar = await startSidecar(t, { name: 'fs', command: ['python3', fixture('../../examples/fs_server.py')] });
  const health = await sidecar.health();
  t.match(health, { childEra: 'legacy', probe: { outcome: 'answer' } }, 'fs_server.py answers server/discover with an error: legacy');
});

t.test('a restarted child is probed again (its era may have changed)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-era-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sidecar = await startSidecar(t, { name: 'switch', command: ['python3', fixture('era_switch.py'), join(dir, 'started')], extra: ['--backoff', '50-100'] });
  const first = await sidecar.health();
  t.equal(first.childEra, 'legacy', 'the first child is legacy');
  process.kill(first.pid, 'SIGKILL');
  const second = await pollJson(`${sidecar.base}/healthz`, (_status, body) => body.state === 'ready' && body.restarts >= 1);
  t.equal(second.childEra, 'modern', 'the restarted child is found modern');
  const client = await connectClient(t, sidecar.url);
  t.same((await client.callTool({ name: 'shout', arguments: { text: 'hi' } })).content, [{ type: 'text', text: 'HI' }], 'and serves calls');
});

t.test('a modern-only child slower than the probe deadline is still found modern (it refuses initialize)', async (t) => {
  const sidecar = await startSidecar(t, { name: 'slow', command: ['node', dist('test/fixtures/modern-only-server.js')], extra: ['--probe-timeout', '1'] });
  const health = await sidecar.health();
  t.match(health, { state: 'ready', childEra: 'modern', probe: { outcome: 'late' }, restarts: 0 }, 'modern after its late answer, with no restart');
  const client = await connectClient(t, sidecar.url);
  t.same((await client.callTool({ name: 'shout', arguments: { text: 'late' } })).content, [{ type: 'text', text: 'LATE' }], 'and serves calls');
});

t.test('--child-era legacy speaks initialize to a dual-era child without probing it', async (t) => {
  const sidecar = await startSidecar(t, { name: 'pinned', command: ['node', dist('test/fixtures/conformance-server-modern.js')], extra: ['--child-era', 'legacy'] });
  t.match(await sidecar.health(), { childEra: 'legacy', probe: { outcome: 'skipped' } }, 'no probe, legacy');
  const client = await connectClient(t, sidecar.url, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }));
  const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } });
  t.match(JSON.stringify(result.content), /username.*ada/, 'its 2025-only tools reach the client with server-to-client requests');
});

t.test("resources/subscribe of a legacy client becomes the filter of the modern child's listen stream", async (t) => {
  const sidecar = await startSidecar(t, { name: 'watch', command: ['node', dist('test/fixtures/modern-watch-server.js')] });
  t.equal((await sidecar.health()).childEra, 'modern');
  const client = await connectClient(t, sidecar.url);
  const updated = new Promise<unknown>((resolve) => client.setNotificationHandler('notifications/resources/updated', (n) => resolve(n.params)));
  await client.subscribeResource({ uri: 'test://watched' });
  await client.callTool({ name: 'touch', arguments: {} });
  t.same(await updated, { uri: 'test://watched' }, 'the update of the subscribed URI reaches the client');
});

t.test("a modern child's questions go to the client whose call asked them, with calls of two sessions in flight", async (t) => {
  const sidecar = await startSidecar(t, { name: 'two', command: ['node', dist('test/fixtures/conformance-server-modern.js')] });
  const clients = await Promise.all(
    ['Ann', 'Bob'].map(async (name) => {
      const client = await connectClient(t, sidecar.url, { capabilities: { elicitation: { form: {} } } }, name);
      client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name } }));
      return client;
    }),
  );
  for (let round = 0; round < 5; round++) {
    const results = await Promise.all(clients.map((client) => client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} })));
    t.same(
      results.map((r) => r.content),
      [[{ type: 'text', text: 'Hello, Ann!' }], [{ type: 'text', text: 'Hello, Bob!' }]],
      `round ${round}: each call completed with its own client's answer`,
    );
  }
});
