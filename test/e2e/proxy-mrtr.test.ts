import t from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixture, freePort, pollJson, spawnNode } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// MRTR through the proxy: a 2026-07-28 instance (test/fixtures/modern-echo.ts, tool `ask`) asks for
// the client's input; the proxy hands the request to its client with a state of its own that routes
// the retry back to that instance, and refuses a state that was tampered with.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '10'];
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
};

const text = (result: { content?: unknown }) => (result.content as { type: string; text: string }[])[0]?.text ?? '';

t.test('an instance asks for input: modern clients answer by MRTR, legacy ones by elicitation on their session', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const spawned = spawnNode('test/fixtures/modern-echo.js', [], { MESH_SERVICE_NAME: 'modern', MESH_PROXY_URL: proxy.base, MESH_PORT: String(await freePort()) });
  t.teardown(() => spawned.stop());
  await pollJson(`${proxy.base}/v1/services/modern`, (status, body) => status === 200 && body.status === 'healthy');

  const connect = async (name: string, options: ConstructorParameters<typeof Client>[1]) => {
    const client = new Client({ name, version: '1.0.0' }, options);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`)));
    t.teardown(() => client.close());
    return client;
  };
  const answering = (client: Client, who: string) => client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name: who } }));

  const modern = await connect('modern-client', { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  answering(modern, 'Ada');
  t.equal(text(await modern.callTool({ name: 'modern__ask', arguments: {} })), 'hello Ada', 'a modern client answers the instance by MRTR through the proxy');

  const legacy = await connect('legacy-asked', { capabilities: { elicitation: {} } });
  answering(legacy, 'Grace');
  t.equal(text(await legacy.callTool({ name: 'modern__ask', arguments: {} })), 'hello Grace', 'a legacy client that declared elicitation is asked on its session');

  const plain = await connect('legacy-plain', {});
  const refused = await plain.callTool({ name: 'modern__ask', arguments: {} });
  t.equal(refused.isError, true, 'a legacy client without elicitation gets a tool error');
  // The proxy declared nothing for it upstream, so the instance itself refuses to ask.
  t.match(text(refused), /Cannot request input 'who' \(elicitation\/create\)/);

  // By hand: the proxy's own state, then a retry with that state tampered with.
  const post = async (id: number, params: Record<string, unknown>) => {
    const response = await fetch(`${proxy.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'modern__ask' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'modern__ask', arguments: {}, _meta: ENVELOPE, ...params } }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const first = await post(1, {});
  t.match(first.body, { result: { resultType: 'input_required', inputRequests: { who: { method: 'elicitation/create' } }, requestState: String } }, 'the instance asked, through the proxy');
  const state = first.body.result.requestState as string;
  const inputResponses = { who: { action: 'accept', content: { name: 'Lin' } } };
  const done = await post(2, { inputResponses, requestState: state });
  t.match(done.body, { result: { resultType: 'complete', content: [{ text: 'hello Lin' }] } }, 'the retry with the proxy state reaches the instance that asked');
  const flip = state.at(-2) === 'A' ? 'B' : 'A';
  const tampered = await post(3, { inputResponses, requestState: `${state.slice(0, -2)}${flip}${state.at(-1)}` });
  t.match(tampered.body, { id: 3, error: { code: -32602 } }, 'a tampered state is refused');
  const foreign = await post(4, { inputResponses, requestState: 'not-a-state-of-this-proxy' });
  t.match(foreign.body, { id: 4, error: { code: -32602 } }, 'a state the proxy never issued is refused');

  // prompts/get and resources/read may ask too (2026-07-28): the same relay, the same pinned retry.
  t.match(await modern.getPrompt({ name: 'modern__greet' }), { messages: [{ content: { text: 'greet Ada' } }] }, "a modern client answers a prompt's question by MRTR");
  t.match(await modern.readResource({ uri: 'mesh://modern/secret://name' }), { contents: [{ uri: 'mesh://modern/secret://name', text: 'secret of Ada' }] }, "and a resource's");
  t.match(await legacy.getPrompt({ name: 'modern__greet' }), { messages: [{ content: { text: 'greet Grace' } }] }, 'a legacy client that declared elicitation is asked on its session for a prompt');
  t.match(await legacy.readResource({ uri: 'mesh://modern/secret://name' }), { contents: [{ text: 'secret of Grace' }] }, 'and for a resource');
  // The proxy declared nothing for it upstream, so the instance refuses to ask, and the client hears why.
  await t.rejects(plain.getPrompt({ name: 'modern__greet' }), { message: /Cannot request input 'who' \(elicitation\/create\)/ }, 'a legacy client without elicitation is told the capability it lacks');

  const raw = async (id: number, method: string, params: Record<string, unknown>) => {
    const named = String(params.name ?? params.uri);
    const response = await fetch(`${proxy.base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, 'mcp-name': named },
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: ENVELOPE, ...params } }),
    });
    return (await response.json()) as any;
  };
  const asked = await raw(5, 'prompts/get', { name: 'modern__greet' });
  t.match(
    asked,
    { result: { resultType: 'input_required', inputRequests: { who: { method: 'elicitation/create' } }, requestState: String } },
    "a prompt's question reaches the client with the proxy's state",
  );
  const greeted = await raw(6, 'prompts/get', { name: 'modern__greet', inputResponses, requestState: asked.result.requestState });
  t.match(greeted, { result: { resultType: 'complete', messages: [{ content: { text: 'greet Lin' } }] } }, 'and its retry reaches the instance that asked');
  const crossed = await raw(7, 'resources/read', { uri: 'mesh://modern/secret://name', inputResponses, requestState: asked.result.requestState });
  t.match(crossed, { id: 7, error: { code: -32602, message: /issued for prompts\/get of "modern__greet"/ } }, "a prompt's state is refused on a resources/read");
  const toolState = await raw(8, 'tools/call', { name: 'modern__ask', arguments: {} });
  const misused = await raw(9, 'prompts/get', { name: 'modern__greet', inputResponses, requestState: toolState.result.requestState });
  t.match(misused, { id: 9, error: { code: -32602 } }, "a tool call's state is refused on a prompts/get");
});

// Both hops: a legacy stdio child (test/fixtures/ask_client_server.py) asks for sampling, then for
// elicitation, during one call; its sidecar turns each into an InputRequiredResult with a state it
// signs, the proxy wraps that state in its own, and the client's retries find the child's call still
// waiting. A legacy client on the proxy is asked on its session instead.
t.test('MRTR through both hops: a legacy child behind a sidecar asks for sampling, then elicitation', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  await startSidecar(t, { name: 'asker', command: ['python3', fixture('ask_client_server.py')], proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/asker`, (status, body) => status === 200 && body.status === 'healthy');
  for (const era of ['modern', 'legacy'] as const) {
    const asked: string[] = [];
    const client = new Client(
      { name: `${era}-asked`, version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} }, ...(era === 'modern' && { versionNegotiation: { mode: { pin: '2026-07-28' as const } } }) },
    );
    client.setRequestHandler('sampling/createMessage', () => {
      asked.push('sampling');
      return { role: 'assistant', content: { type: 'text', text: `a ${era} answer` }, model: 'test', stopReason: 'endTurn' };
    });
    client.setRequestHandler('elicitation/create', () => {
      asked.push('elicitation');
      return { action: 'accept', content: { name: era === 'modern' ? 'Ada' : 'Grace' } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`)));
    t.teardown(() => client.close());
    t.equal(client.getProtocolEra(), era, `a ${era} client`);
    const result = await client.callTool({ name: 'asker__ask', arguments: { question: 'who?' } });
    t.equal(text(result), `sampled: a ${era} answer; name: ${era === 'modern' ? 'Ada' : 'Grace'}`, `${era}: the child's call went on with both answers`);
    t.same(asked, ['sampling', 'elicitation'], `${era}: asked for sampling, then elicitation, once each`);
  }
});
