import t from 'tap';
import { fixture } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';
import { connectModern, postModern } from '../helpers/modern.js';

// Multi Round-Trip Requests in front of a legacy child that asks its client for sampling, then for
// elicitation, in the middle of a tool call: a 2026-07-28 client answers them through retries.
const sidecar = await startSidecar(t, { name: 'asker', command: ['python3', fixture('ask_client_server.py')] });
const capable = { 'io.modelcontextprotocol/clientCapabilities': { sampling: {}, elicitation: {} } };

t.test("a modern SDK client answers the child's sampling and elicitation through retries", async (t) => {
  const client = await connectModern(t, sidecar.url, { capabilities: { sampling: {}, elicitation: {} } });
  const asked: string[] = [];
  client.setRequestHandler('sampling/createMessage', async (request) => {
    asked.push(`sampling: ${JSON.stringify(request.params.messages[0]?.content)}`);
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'forty-two' } };
  });
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(`elicitation: ${request.params.message}`);
    return { action: 'accept', content: { name: 'Ada' } };
  });
  const result = await client.callTool({ name: 'ask', arguments: { question: 'meaning of life?' } });
  t.same(result.content, [{ type: 'text', text: 'sampled: forty-two; name: Ada' }]);
  t.same(asked, ['sampling: {"type":"text","text":"meaning of life?"}', 'elicitation: Your name?']);
});

t.test('the wire: InputRequiredResult, signed requestState, tampering and replay refused', async (t) => {
  const first = await postModern(sidecar.url, 'tools/call', { name: 'ask', arguments: { question: 'q?' }, _meta: capable }, {}, 1);
  t.equal(first.status, 200);
  const round1 = first.body.result;
  t.equal(round1.resultType, 'input_required');
  t.match(round1.inputRequests, { 'input-1': { method: 'sampling/createMessage', params: { messages: [{ content: { text: 'q?' } }] } } });
  t.type(round1.requestState, 'string');

  const tampered = round1.requestState.slice(0, -2) + (round1.requestState.endsWith('AA') ? 'BB' : 'AA');
  const refused = await postModern(sidecar.url, 'tools/call', { name: 'ask', arguments: { question: 'q?' }, _meta: capable, requestState: tampered, inputResponses: {} }, {}, 2);
  t.equal(refused.body.error?.code, -32602, 'a tampered requestState is refused');

  const sampled = { role: 'assistant', content: { type: 'text', text: 'wire answer' }, model: 'm' };
  const second = await postModern(
    sidecar.url,
    'tools/call',
    { name: 'ask', arguments: { question: 'q?' }, _meta: capable, requestState: round1.requestState, inputResponses: { 'input-1': sampled } },
    {},
    3,
  );
  const round2 = second.body.result;
  t.equal(round2.resultType, 'input_required', 'the child asks again: elicitation');
  t.match(round2.inputRequests, { 'input-1': { method: 'elicitation/create', params: { message: 'Your name?' } } });
  t.not(round2.requestState, round1.requestState);

  const replay = await postModern(
    sidecar.url,
    'tools/call',
    { name: 'ask', arguments: { question: 'q?' }, _meta: capable, requestState: round1.requestState, inputResponses: { 'input-1': sampled } },
    {},
    4,
  );
  t.equal(replay.body.error?.code, -32602, 'a replayed requestState is refused');
  t.match(replay.body.error?.message, /used already|replay/);

  const other = await postModern(sidecar.url, 'tools/list', { _meta: capable, requestState: round2.requestState }, {}, 5);
  t.ok(other.body.error || other.body.result?.tools, 'state on another method does not resume the call');

  const third = await postModern(
    sidecar.url,
    'tools/call',
    { name: 'ask', arguments: { question: 'q?' }, _meta: capable, requestState: round2.requestState, inputResponses: { 'input-1': { action: 'accept', content: { name: 'Wire' } } } },
    {},
    6,
  );
  t.equal(third.body.id, 6);
  t.equal(third.body.result.resultType, 'complete');
  t.same(third.body.result.content, [{ type: 'text', text: 'sampled: wire answer; name: Wire' }]);
});

t.test('a retry without the asked answer is asked again', async (t) => {
  const first = await postModern(sidecar.url, 'tools/call', { name: 'ask', arguments: { question: 'again?' }, _meta: capable });
  const retry = await postModern(sidecar.url, 'tools/call', { name: 'ask', arguments: { question: 'again?' }, _meta: capable, requestState: first.body.result.requestState, inputResponses: {} });
  t.equal(retry.body.result.resultType, 'input_required');
  t.match(retry.body.result.inputRequests, { 'input-1': { method: 'sampling/createMessage' } });
});

t.test("a client that declared no sampling capability gets -32021 (HTTP 400) and the child's call is cancelled", async (t) => {
  const cancelledSoFar = async () => JSON.parse((await postModern(sidecar.url, 'tools/call', { name: 'cancelled', arguments: {} })).body.result.content[0].text) as unknown[];
  const before = (await cancelledSoFar()).length;
  // The lean path (a plain tools/call) and the SDK path (a progress token sends it through the per-request server).
  for (const [path, meta] of [
    ['lean', {}],
    ['sdk', { progressToken: 'p-1' }],
  ] as const) {
    const answer = await postModern(sidecar.url, 'tools/call', { name: 'ask', arguments: { question: 'x' }, _meta: meta });
    t.equal(answer.status, 400, `${path}: HTTP 400`);
    t.equal(answer.body.error?.code, -32021, `${path}: MissingRequiredClientCapability`);
    t.same(answer.body.error?.data, { requiredCapabilities: { sampling: {} } }, `${path}: names the missing capability`);
    t.match(answer.body.error?.message, /tools\/call "ask" needs the client capabilities sampling/);
  }
  // The child heard notifications/cancelled for both calls before the next request (stdin is ordered).
  t.equal((await cancelledSoFar()).length - before, 2, "the child's two calls were cancelled");
});

t.test("legacy clients still get the child's requests as server→client requests", async (t) => {
  const client = await connectClient(t, sidecar.url, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'legacy' } }));
  client.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
  const result = await client.callTool({ name: 'ask', arguments: { question: 'old?' } });
  t.same(result.content, [{ type: 'text', text: 'sampled: legacy; name: (decline)' }]);
});
