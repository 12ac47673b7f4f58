import t from 'tap';
import type { Client, StreamableHTTPClientTransport, CallToolResult, LoggingMessageNotification, ProgressNotification } from '@modelcontextprotocol/client';
import { connectListeningClient } from '../helpers/listening-client.js';
import { dist, pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar, type RunningSidecar } from '../helpers/sidecar.js';

// What the proxy's aggregated endpoint relays between a client session and the instance serving
// its call (real proxy, real sidecars, real stdio fixtures): log lines at the session's level,
// progress with the client's own token, sampling/elicitation/roots requests and their answers,
// completions, resource subscriptions; and the hot path keeps to sessions that need none of it.
t.setTimeout(120_000);

const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'] });
const sidecarOf = (name: string, script: string) => startSidecar(t, { name, command: ['node', dist(script)], proxy: proxy.base, extra: ['--host', '127.0.0.1', '--heartbeat', '1'] });
const conformance = await sidecarOf('conformance', 'test/fixtures/conformance-server.js');
const relay = await sidecarOf('relay', 'test/fixtures/relay-server.js');
for (const name of ['conformance', 'relay']) await pollJson(`${proxy.base}/v1/services/${name}`, (status, body) => status === 200 && body.status === 'healthy');
const mcpUrl = `${proxy.base}/mcp`;
{
  const probe = await connectClient(t, mcpUrl);
  await waitFor(async () => {
    const names = (await probe.listTools()).tools.map((tool) => tool.name);
    return names.includes('relay__state') && names.includes('conformance__test_sampling');
  }, "both services' tools are on the endpoint");
}

const textOf = (result: object) => (((result as { content?: unknown }).content as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');
const fixtureState = async (client: Client) =>
  JSON.parse(textOf(await client.callTool({ name: 'relay__state', arguments: {} }))) as {
    subscribes: number;
    unsubscribes: number;
    subscribed: string[];
    rootsChanged: number;
    waits: number;
    cancelled: number;
  };
/** A POST to the endpoint as a lean client sends it (JSON preferred). */
function rawPost(session: string | undefined, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(session ? { 'mcp-session-id': session } : {}),
    },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** An initialized session opened with raw POSTs, declaring `capabilities`. */
async function rawSession(capabilities: Record<string, unknown> = {}): Promise<string> {
  const init = await rawPost(undefined, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw', version: '1' } } });
  const session = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  await (await rawPost(session, { jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  return session;
}

const sessionsOf = async (sidecar: RunningSidecar) => (await sidecar.health()).sessions as number;
const logsOf = (client: Client) => {
  const lines: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler('notifications/message', (n) => void lines.push(n.params));
  return lines;
};

t.test('logging: logging/setLevel per client session, log lines of its calls relayed at its level, naming the service', async (t) => {
  const warn = await connectClient(t, mcpUrl, {}, 'warn-client');
  const debug = await connectClient(t, mcpUrl, {}, 'debug-client');
  const silent = await connectClient(t, mcpUrl, {}, 'plain-client');
  t.match(warn.getServerCapabilities(), { logging: {} }, 'the endpoint declares logging');
  const warnLines = logsOf(warn);
  const debugLines = logsOf(debug);
  const silentLines = logsOf(silent);
  t.same(await warn.setLoggingLevel('warning'), {}, 'logging/setLevel answers {}');
  await debug.setLoggingLevel('debug');

  t.match(textOf(await warn.callTool({ name: 'relay__log_levels', arguments: {} })), /logged 4 lines/);
  await waitFor(() => warnLines.length >= 2, 'the warning session has its 2 lines');
  t.same(
    warnLines.map((l) => l.level),
    ['warning', 'error'],
    'a session at "warning" gets warning and error only',
  );
  t.match(warnLines[0], { logger: 'relay/relay-fixture', data: 'a warning line' }, 'the logger names the service');

  await debug.callTool({ name: 'relay__log_levels', arguments: {} });
  await waitFor(() => debugLines.length >= 4, 'the debug session has its 4 lines');
  t.same(
    debugLines.map((l) => l.level),
    ['debug', 'info', 'warning', 'error'],
    'a session at "debug" gets all four',
  );
  t.equal(warnLines.length, 2, "the other session heard none of that call's lines");

  await warn.callTool({ name: 'call_service', arguments: { service: 'relay', tool: 'log_levels' } });
  await waitFor(() => warnLines.length >= 4, 'call_service relays too');
  t.same(
    warnLines.slice(2).map((l) => l.level),
    ['warning', 'error'],
    "through call_service, at the session's level",
  );

  await warn.setLoggingLevel('error');
  await warn.callTool({ name: 'relay__log_levels', arguments: {} });
  await waitFor(() => warnLines.length >= 5, 'the raised level applies');
  t.same(
    warnLines.slice(4).map((l) => l.level),
    ['error'],
    'a new level applies to the next call',
  );

  await silent.callTool({ name: 'relay__log_levels', arguments: {} });
  await debug.callTool({ name: 'relay__state', arguments: {} }); // a later round trip: anything relayed to `silent` would be here by now
  t.same(silentLines, [], 'a session that set no level and declared nothing gets no log lines (its calls are plain)');
});

t.test('progress: every upstream progress reaches the client with its exact token, on namespaced tools and call_service', async (t) => {
  const client = await connectClient(t, mcpUrl);
  const seen: ProgressNotification['params'][] = [];
  client.setNotificationHandler('notifications/progress', (n) => void seen.push(n.params));
  const call = (name: string, args: Record<string, unknown>, progressToken: string | number) => client.request({ method: 'tools/call', params: { name, arguments: args, _meta: { progressToken } } });
  const ofToken = (token: string | number) => seen.filter((p) => p.progressToken === token);

  const result = await call('relay__progress', { steps: 3 }, 'tok-α/1');
  t.notMatch(textOf(result), /tok-α/, "the instance saw a token of the proxy's own");
  await waitFor(() => ofToken('tok-α/1').length >= 3, 'three progress notifications for tok-α/1');
  t.same(
    ofToken('tok-α/1').map((p) => [p.progress, p.total]),
    [
      [1, 3],
      [2, 3],
      [3, 3],
    ],
    "all three, in order, with the client's string token",
  );

  // Two calls at once on one session: each token gets exactly its own notifications; a number stays a number.
  await Promise.all([call('relay__progress', { steps: 4 }, 'A'), call('relay__progress', { steps: 2 }, 7)]);
  await waitFor(() => ofToken('A').length >= 4 && ofToken(7).length >= 2, "both concurrent calls' progress arrived");
  t.same(
    ofToken('A').map((p) => p.progress),
    [1, 2, 3, 4],
  );
  t.same(
    ofToken(7).map((p) => p.progress),
    [1, 2],
  );
  t.equal(seen.filter((p) => p.progressToken === '7').length, 0, 'numeric token 7 is never turned into "7"');

  await call('call_service', { service: 'relay', tool: 'progress', arguments: { steps: 2 } }, 'via-call-service');
  await waitFor(() => ofToken('via-call-service').length >= 2, 'call_service relays progress');
  t.same(
    ofToken('via-call-service').map((p) => p.progress),
    [1, 2],
  );
  t.equal(seen.length, 3 + 4 + 2 + 2, 'nothing else arrived');

  // The SDK's own onprogress (numeric token = request id), against the conformance fixture's 0/50/100.
  const sdk = await connectClient(t, mcpUrl);
  const progress: number[] = [];
  await sdk.callTool({ name: 'conformance__test_tool_with_progress', arguments: {} }, { onprogress: (p) => progress.push(p.progress) });
  t.same(progress, [0, 50, 100], 'all three arrive before the result, the last one included');
});

// The sidecars serve 2026-07-28, so the proxy's hop to them is stateless: the client's questions come
// back as InputRequiredResults the proxy's SDK client answers by asking the client on its session,
// and no session is opened at the instance.
t.test('sampling, elicitation and roots: asked of the calling client, answers go back (stateless hop: no upstream session)', async (t) => {
  const before = { conformance: await sessionsOf(conformance), relay: await sessionsOf(relay) };
  const client = await connectClient(t, mcpUrl, { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } }, 'asking-client');
  const asked: string[] = [];
  client.setRequestHandler('sampling/createMessage', (request) => {
    const content = request.params.messages[0]?.content;
    asked.push(`sampling: ${content && 'text' in content ? content.text : '?'}`);
    return { role: 'assistant', content: { type: 'text', text: 'sampled by the client' }, model: 'test-model', stopReason: 'endTurn' };
  });
  client.setRequestHandler('elicitation/create', (request) => {
    asked.push(`elicitation: ${request.params.message}`);
    return { action: 'accept', content: { username: 'ann', email: 'ann@example.com' } };
  });
  client.setRequestHandler('roots/list', () => {
    asked.push('roots');
    return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
  });

  const sampled = await client.callTool({ name: 'conformance__test_sampling', arguments: { prompt: 'say hi' } });
  t.notOk(sampled.isError, 'the sampling tool succeeds');
  t.equal(textOf(sampled), 'LLM response: sampled by the client', "the client's sampling answer went back to the instance");
  t.equal(await sessionsOf(conformance), before.conformance, 'no upstream session was opened at the 2026-07-28 instance');

  const elicited = await client.callTool({ name: 'conformance__test_elicitation', arguments: { message: 'who are you?' } });
  t.match(textOf(elicited), 'User response: action=accept, content={"username":"ann","email":"ann@example.com"}');
  const viaCallService = await client.callTool({ name: 'call_service', arguments: { service: 'conformance', tool: 'test_sampling', arguments: { prompt: 'again' } } });
  t.equal(textOf(viaCallService), 'LLM response: sampled by the client', 'through call_service as well');
  t.equal(await sessionsOf(conformance), before.conformance, 'nor by later calls');

  const roots = await client.callTool({ name: 'relay__list_roots', arguments: {} });
  t.same(JSON.parse(textOf(roots)), [{ uri: 'file:///work/project', name: 'project' }], 'roots/list is answered by the client');
  t.same(asked, ['sampling: say hi', 'elicitation: who are you?', 'sampling: again', 'roots']);
  // roots/list_changed has no receiver on a stateless hop: a 2026-07-28 instance asks for the roots with each call that needs them.

  // A client that declared nothing is never asked: the instance gets an error at once, not a hang.
  const plain = await connectClient(t, mcpUrl);
  const refused = (await plain.callTool({ name: 'conformance__test_sampling', arguments: { prompt: 'x' } }).catch((error: Error) => ({
    isError: true,
    content: [{ type: 'text', text: error.message }],
  }))) as CallToolResult;
  t.ok(refused.isError, `a client without sampling gets an error: ${textOf(refused).slice(0, 120)}`);
  t.equal(asked.length, 4, 'and the sampling client was not asked in its place');

  // Closing the client session (DELETE) closes its upstream sessions at both instances.
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await waitFor(async () => (await sessionsOf(conformance)) === before.conformance && (await sessionsOf(relay)) === before.relay, 'the upstream sessions are gone');
  t.pass("the client's upstream sessions were DELETEd when it closed its session");
});

t.test('completion/complete: namespaced prompts and mesh:// resource templates go to the service under its own names', async (t) => {
  const client = await connectClient(t, mcpUrl);
  t.match(client.getServerCapabilities(), { completions: {} });
  const prompt = await client.complete({ ref: { type: 'ref/prompt', name: 'conformance__test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'pa' } });
  t.same(prompt.completion.values, ['paris', 'park', 'party']);
  const template = await client.complete({ ref: { type: 'ref/resource', uri: 'mesh://conformance/test://template/{id}/data' }, argument: { name: 'id', value: '4' } });
  t.same(template.completion.values, ['456']);
  await t.rejects(client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'p' } }), { code: -32602, message: /unknown prompt/ });
  await t.rejects(client.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } }), { code: -32602, message: /mesh:\/\// });
  await t.rejects(client.complete({ ref: { type: 'ref/resource', uri: 'mesh://ghost/x://y' }, argument: { name: 'id', value: '1' } }), { message: /unknown service "ghost"/ });
});

t.test('resources/subscribe: one upstream subscription shared by sessions, updates relayed with the mesh:// uri', async (t) => {
  const uri = 'mesh://relay/relay://counter';
  const a = await connectListeningClient(t, mcpUrl);
  const b = await connectListeningClient(t, mcpUrl);
  t.match(a.getServerCapabilities(), { resources: { subscribe: true } });
  const updates = new Map<Client, string[]>([
    [a, []],
    [b, []],
  ]);
  for (const [client, list] of updates) client.setNotificationHandler('notifications/resources/updated', (n) => void list.push(n.params.uri));
  const start = await fixtureState(a);

  t.same(await a.subscribeResource({ uri }), {});
  await b.subscribeResource({ uri });
  await a.subscribeResource({ uri }); // the same session again changes nothing
  let state = await fixtureState(a);
  t.equal(state.subscribes - start.subscribes, 1, 'three subscribes, one upstream subscription');
  t.ok(state.subscribed.includes('relay://counter'), "under the service's own uri");

  await a.callTool({ name: 'relay__touch', arguments: { uri: 'relay://counter' } });
  await waitFor(() => updates.get(a)!.length === 1 && updates.get(b)!.length === 1, 'both sessions heard the update');
  t.same(updates.get(a), [uri], 'the update names the mesh:// uri');

  t.same(await a.unsubscribeResource({ uri }), {});
  state = await fixtureState(a);
  t.equal(state.unsubscribes, start.unsubscribes, 'still subscribed upstream while b is');
  await a.callTool({ name: 'relay__touch', arguments: { uri: 'relay://counter' } });
  await waitFor(() => updates.get(b)!.length === 2, 'b heard the second update');
  await a.callTool({ name: 'relay__state', arguments: {} });
  t.equal(updates.get(a)!.length, 1, 'a, unsubscribed, did not');

  // The last subscriber leaving by closing its session (DELETE) ends the upstream subscription.
  await (b.transport as StreamableHTTPClientTransport).terminateSession();
  await waitFor(async () => !(await fixtureState(a)).subscribed.includes('relay://counter'), 'the instance was unsubscribed');
  t.equal((await fixtureState(a)).unsubscribes - start.unsubscribes, 1, 'one upstream unsubscribe');

  await t.rejects(a.subscribeResource({ uri: 'relay://counter' }), { code: -32602, message: /mesh:\/\/<service>/ });
  await t.rejects(a.subscribeResource({ uri: 'mesh://ghost/relay://counter' }), { message: /unknown service "ghost"/ });
});

// Both clients' calls are in flight at once at the proxy and at the instance. A stdio child's requests
// and log lines name no request, so the sidecar gives them to its latest call in flight (its
// documented limit); the order below keeps that one well defined: Bob's call starts and ends while
// Ann's waits on Ann. What is tested is the proxy: it never hands one session's traffic to another.
t.test('two asking clients at once: each is asked only about its own calls, and answers only those', async (t) => {
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };
  const make = async (who: 'ann' | 'bob') => {
    const client = await connectClient(t, mcpUrl, { capabilities: { sampling: {}, roots: {} } }, `client-${who}`);
    const asked: string[] = [];
    const held = { sampling: gate(), roots: gate() };
    const reached = { sampling: gate(), roots: gate() };
    client.setRequestHandler('sampling/createMessage', async (request) => {
      const content = request.params.messages[0]?.content;
      asked.push(`sampling: ${content && 'text' in content ? content.text : '?'}`);
      reached.sampling.open();
      if (who === 'ann') await held.sampling.opened;
      return { role: 'assistant', content: { type: 'text', text: `answer of ${who}` }, model: 'test-model', stopReason: 'endTurn' };
    });
    client.setRequestHandler('roots/list', async () => {
      asked.push('roots');
      reached.roots.open();
      if (who === 'ann') await held.roots.opened;
      return { roots: [{ uri: `file:///home/${who}`, name: who }] };
    });
    const lines = logsOf(client);
    await client.setLoggingLevel(who === 'ann' ? 'debug' : 'error');
    return { who, client, asked, held, reached, lines };
  };
  const ann = await make('ann');
  const bob = await make('bob');

  const annSampling = ann.client.callTool({ name: 'conformance__test_sampling', arguments: { prompt: 'from ann' } });
  await ann.reached.sampling.opened;
  const bobSampling = await bob.client.callTool({ name: 'conformance__test_sampling', arguments: { prompt: 'from bob' } });
  t.equal(textOf(bobSampling), 'LLM response: answer of bob', "Bob's call, made while Ann's waits on Ann, gets Bob's answer");
  ann.held.sampling.open();
  t.equal(textOf(await annSampling), 'LLM response: answer of ann', "and Ann's gets Ann's");

  const annRoots = ann.client.callTool({ name: 'relay__list_roots', arguments: {} });
  await ann.reached.roots.opened;
  const bobRoots = await bob.client.callTool({ name: 'relay__list_roots', arguments: {} });
  // Bob's log lines while Ann's call is still open: they are Bob's only.
  await bob.client.callTool({ name: 'relay__log_levels', arguments: {} });
  ann.held.roots.open();
  t.same(JSON.parse(textOf(bobRoots)), [{ uri: 'file:///home/bob', name: 'bob' }], "roots/list of Bob's call is answered by Bob");
  t.same(JSON.parse(textOf(await annRoots)), [{ uri: 'file:///home/ann', name: 'ann' }], "and of Ann's by Ann");
  t.same(ann.asked, ['sampling: from ann', 'roots'], 'Ann was asked about her own calls only');
  t.same(bob.asked, ['sampling: from bob', 'roots'], 'Bob about his own only');

  await ann.client.callTool({ name: 'relay__log_levels', arguments: {} });
  await waitFor(() => ann.lines.length >= 4 && bob.lines.length >= 1, 'the log lines of both sessions arrived');
  await bob.client.callTool({ name: 'relay__state', arguments: {} }); // a later round trip: a stray line would be here by now
  t.same(
    ann.lines.map((l) => l.level),
    ['debug', 'info', 'warning', 'error'],
    "Ann (debug) got her call's 4 lines and none of Bob's",
  );
  t.same(
    bob.lines.map((l) => l.level),
    ['error'],
    "Bob (error) got his call's error line only",
  );
});

t.test('cancellation: a cancelled call is cancelled at the instance, on the lean path and on relayed ones', async (t) => {
  const plain = await connectClient(t, mcpUrl, {}, 'cancel-plain');
  const asking = await connectClient(t, mcpUrl, { capabilities: { sampling: {} } }, 'cancel-asking');
  const start = await fixtureState(plain);
  const cancelOne = async (client: Client, what: string, meta?: Record<string, unknown>) => {
    const before = await fixtureState(plain);
    const controller = new AbortController();
    const call = client.request({ method: 'tools/call', params: { name: 'relay__wait', arguments: { ms: 30_000 }, ...(meta ? { _meta: meta } : {}) } }, { signal: controller.signal });
    await waitFor(async () => (await fixtureState(plain)).waits > before.waits, `the ${what} call reached the instance`);
    const started = Date.now();
    controller.abort('changed my mind');
    await t.rejects(call, `the ${what} call is rejected at the client`);
    await waitFor(async () => (await fixtureState(plain)).cancelled > before.cancelled, `the instance saw the ${what} call cancelled`);
    t.ok(Date.now() - started < 10_000, `the instance stopped the ${what} call well before its 30 s`);
  };
  await cancelOne(plain, 'plain (lean path)');
  await cancelOne(plain, 'progress-token', { progressToken: 'cancel-me' });
  await cancelOne(asking, 'relay-session');
  t.equal((await fixtureState(plain)).cancelled - start.cancelled, 3, 'three cancelled at the instance');

  // completion/complete comes through the SDK transport; its cancellation reaches the instance too.
  const beforeCompletion = await fixtureState(plain);
  const stopCompletion = new AbortController();
  const completing = plain.request(
    { method: 'completion/complete', params: { ref: { type: 'ref/resource', uri: 'mesh://relay/relay://counter' }, argument: { name: 'wait', value: '30000' } } },
    { signal: stopCompletion.signal },
  );
  await waitFor(async () => (await fixtureState(plain)).waits > beforeCompletion.waits, 'the completion reached the instance');
  stopCompletion.abort('changed my mind');
  await t.rejects(completing, 'the completion is rejected at the client');
  await waitFor(async () => (await fixtureState(plain)).cancelled > beforeCompletion.cancelled, 'the instance saw the completion cancelled');

  // The lean path: a client that goes away (closes the request) cancels the call as well.
  const session = await rawSession();
  const before = await fixtureState(plain);
  const controller = new AbortController();
  const gone = rawPost(session, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'relay__wait', arguments: { ms: 30_000 } } }, controller.signal);
  await waitFor(async () => (await fixtureState(plain)).waits > before.waits, 'the raw call reached the instance');
  controller.abort();
  await gone.catch(() => undefined);
  await waitFor(async () => (await fixtureState(plain)).cancelled > before.cancelled, 'a closed request cancelled its call');
  t.pass('closing the HTTP request of a lean call cancels it at the instance');

  const health = await proxy.api('/v1/services/relay');
  t.equal(health.body.status, 'healthy', "cancelled calls do not count against the instance's health");
});

t.test('the hot path answers plain sessions as JSON and leaves every relayed request to the SDK transport', async (t) => {
  const post = rawPost;
  const open = rawSession;
  const kindOf = async (session: string, id: number, params: Record<string, unknown>, method = 'tools/call') => {
    const response = await post(session, { jsonrpc: '2.0', id, method, params });
    const text = await response.text();
    t.match(text, /"result"/, `${method} ${id} answered`);
    return response.headers.get('content-type')?.split(';')[0];
  };
  const state = { name: 'relay__state', arguments: {} };

  const plain = await open({});
  t.equal(await kindOf(plain, 1, state), 'application/json', "a plain session's tools/call takes the lean path (JSON)");
  t.equal(await kindOf(plain, 2, { ...state, _meta: { progressToken: 'p' } }), 'text/event-stream', 'one with a progress token goes to the SDK transport');
  t.equal(await kindOf(plain, 3, { level: 'info' }, 'logging/setLevel'), 'text/event-stream');
  t.equal(await kindOf(plain, 4, state), 'text/event-stream', "after logging/setLevel the session's calls go to the SDK transport");
  for (const capabilities of [{ sampling: {} }, { elicitation: {} }, { roots: {} }]) {
    const asking = await open(capabilities);
    t.equal(await kindOf(asking, 1, state), 'text/event-stream', `a session that declared ${Object.keys(capabilities)[0]} never takes the lean path`);
  }
});
