import t from 'tap';
import type { JSONRPCMessage, JSONRPCResultResponse } from '@modelcontextprotocol/server';
import { ChildEraTransport } from '../../src/stdio/child-era.js';
import { modernEnvelope } from '../../src/stdio/era-probe.js';
import { ChildProcessTransport } from '../../src/stdio/child-transport.js';
import { dist, waitFor } from '../helpers/processes.js';

// "A modern child is spoken to natively, with no translation": a request that already carries the
// 2026-07-28 envelope (a modern client's, served by the sidecar's modern path) reaches a modern child
// unchanged and its answer comes back unchanged, InputRequiredResult included; a legacy request is
// translated. Real child process, the era transport driven directly.

t.test('native requests pass a modern child untouched; legacy ones are translated', async (t) => {
  const child = new ChildProcessTransport({ command: 'node', args: [dist('test/fixtures/conformance-server-modern.js')] });
  await child.start();
  t.teardown(() => child.close(1_000));
  const clientInfo = { name: 'era-test', version: '1.0.0' };
  const era = new ChildEraTransport(child, { clientInfo, capabilities: { elicitation: {} } });
  await era.start();
  t.equal(era.era, 'modern', 'the SDK dual-era child is modern');

  const answers = new Map<string | number, JSONRPCMessage>();
  era.onmessage = (message) => {
    if ('id' in message && !('method' in message)) answers.set(message.id as string | number, message);
  };
  const answer = async (id: string | number) => {
    await waitFor(() => answers.has(id), `the answer to ${id}`);
    return answers.get(id) as JSONRPCResultResponse;
  };
  const envelope = modernEnvelope({ name: 'modern-client', version: '2' }, { elicitation: {} });

  await era.send({ jsonrpc: '2.0', id: 'native-1', method: 'tools/call', params: { name: 'test_input_required_result_elicitation', arguments: {}, _meta: envelope } });
  const asked = await answer('native-1');
  t.equal(asked.result.resultType, 'input_required', "a native call gets the child's InputRequiredResult as it is (the modern client retries)");
  t.ok((asked.result.inputRequests as Record<string, unknown>).user_name, "keyed by the child's own key");

  await era.send({ jsonrpc: '2.0', id: 'native-2', method: 'tools/call', params: { name: 'test_simple_text', arguments: {}, _meta: envelope } });
  const plain = await answer('native-2');
  t.equal(plain.result.resultType, 'complete', 'a native result keeps its resultType');
  t.ok((plain.result._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo'], 'and its serverInfo');

  await era.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } });
  const legacy = await answer(3);
  t.notOk('resultType' in legacy.result, 'a legacy request (no envelope) gets a legacy-shaped result');
});
