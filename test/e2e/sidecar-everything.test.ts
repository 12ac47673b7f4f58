import t from 'tap';
import { ElicitRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/core';
import { everythingServer } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// @modelcontextprotocol/server-everything behind a real sidecar: the bridge must be transparent.
const sidecar = await startSidecar(t, { name: 'everything', command: ['node', everythingServer, 'stdio'] });

t.test('health reports the child and its tools', async (t) => {
  const health = await sidecar.health();
  t.equal(health.state, 'ready');
  t.ok(health.tools > 5, `tool count ${health.tools}`);
  t.type(health.pid, 'number');
});

t.test('tools, resources, prompts, completion pass through', async (t) => {
  const client = await connectClient(t, sidecar.url);
  t.equal(client.getServerVersion()?.name, 'mcp-servers/everything');
  const { tools } = await client.listTools();
  t.ok(
    tools.some((tool) => tool.name === 'echo'),
    'echo listed',
  );
  const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through the mesh' } });
  t.match(echoed.content, [{ type: 'text', text: /through the mesh/ }]);
  const { resources } = await client.listResources();
  t.ok(resources.length > 0, 'resources listed');
  const first = resources[0]!;
  const read = await client.readResource({ uri: first.uri });
  t.equal(read.contents[0]?.uri, first.uri);
  const { resourceTemplates } = await client.listResourceTemplates();
  t.ok(resourceTemplates.length > 0, 'templates listed');
  const { prompts } = await client.listPrompts();
  t.ok(prompts.length > 0, 'prompts listed');
  const simple = prompts.find((p) => !p.arguments?.some((a) => a.required)) ?? prompts[0]!;
  const prompt = await client.getPrompt({ name: simple.name, arguments: {} });
  t.ok(prompt.messages.length > 0, 'prompt has messages');
  await client.ping();
});

t.test('progress notifications reach the caller with its own token', async (t) => {
  const client = await connectClient(t, sidecar.url);
  const { tools } = await client.listTools();
  const longOp = tools.find((tool) => /long.?running/i.test(tool.name));
  t.ok(longOp, 'a long-running-operation tool exists');
  const seen: number[] = [];
  await client.callTool({ name: longOp!.name, arguments: { duration: 0.3, steps: 3 } }, { onprogress: (p) => seen.push(p.progress) });
  t.same(seen.length, 3, `progress events ${JSON.stringify(seen)}`);
});

t.test('sampling requests reach the client whose call triggered them', async (t) => {
  const client = await connectClient(t, sidecar.url, { capabilities: { sampling: {} } });
  let asked = 0;
  client.setRequestHandler('sampling/createMessage', async () => {
    asked++;
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } };
  });
  const { tools } = await client.listTools();
  const sampler = tools.find((tool) => /sampl/i.test(tool.name));
  t.ok(sampler, 'a sampling tool exists');
  const result = await client.callTool({ name: sampler!.name, arguments: { prompt: 'hello', maxTokens: 10 } });
  t.equal(asked, 1, 'the client was asked once');
  t.match(JSON.stringify(result.content), /sampled answer/);
});

t.test('logging level and log messages', async (t) => {
  const client = await connectClient(t, sidecar.url);
  await client.setLoggingLevel('debug');
  t.pass('setLevel accepted');
  void LoggingMessageNotificationSchema;
  void ElicitRequestSchema;
  void ResourceUpdatedNotificationSchema;
});
