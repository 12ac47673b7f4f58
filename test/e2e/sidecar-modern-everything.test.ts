import t from 'tap';
import { everythingServer, waitFor } from '../helpers/processes.js';
import { startSidecar } from '../helpers/sidecar.js';
import { connectModern, postModern } from '../helpers/modern.js';

// @modelcontextprotocol/server-everything (a legacy stdio server) behind a sidecar, reached by a
// 2026-07-28 client: resources, prompts and completion through the bridge; resource updates on listen.
const sidecar = await startSidecar(t, { name: 'everything', command: ['node', everythingServer, 'stdio'] });

t.test('resources, templates, prompts and completion reach a modern client', async (t) => {
  const client = await connectModern(t, sidecar.url);
  t.equal(client.getProtocolEra(), 'modern');
  t.equal(client.getServerVersion()?.name, 'mcp-servers/everything');
  t.notOk((client.getServerCapabilities() as Record<string, unknown>).tasks, 'the 2025-only tasks capability is not advertised');
  const { resources } = await client.listResources();
  t.ok(resources.length > 0, 'resources listed');
  const read = await client.readResource({ uri: resources[0]!.uri });
  t.equal(read.contents[0]?.uri, resources[0]!.uri);
  const { resourceTemplates } = await client.listResourceTemplates();
  t.ok(resourceTemplates.length > 0, 'templates listed');
  const { prompts } = await client.listPrompts();
  const args = prompts.find((p) => p.name === 'args-prompt');
  t.ok(args, 'prompts listed');
  const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } });
  t.match(JSON.stringify(prompt.messages), /Paris/);
  const completed = await client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'E' } });
  t.ok(completed.completion.values.length > 0, `completion values ${JSON.stringify(completed.completion.values)}`);
});

t.test('list results carry cache hints; a resources/read result its resultType', async (t) => {
  for (const method of ['resources/list', 'resources/templates/list', 'prompts/list']) {
    const answer = await postModern(sidecar.url, method, {});
    t.match(answer.body.result, { resultType: 'complete', ttlMs: Number, cacheScope: String }, method);
  }
  const list = await postModern(sidecar.url, 'resources/list', {});
  const uri = list.body.result.resources[0].uri;
  const read = await postModern(sidecar.url, 'resources/read', { uri });
  t.equal(read.body.result.resultType, 'complete');
  t.equal(read.body.result.contents[0].uri, uri);
});

t.test("the child's resource updates reach a listen stream that asked for that URI", async (t) => {
  const client = await connectModern(t, sidecar.url);
  const { resources } = await client.listResources();
  const uri = resources[0]!.uri;
  const updated: string[] = [];
  client.setNotificationHandler('notifications/resources/updated', (n) => void updated.push(n.params.uri));
  const subscription = await client.listen({ resourceSubscriptions: [uri] });
  t.same(subscription.honoredFilter.resourceSubscriptions, [uri]);
  // The child sends updates of its subscribed resources every 5 s once this tool turned them on.
  await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
  await waitFor(() => updated.length > 0, 'notifications/resources/updated on the listen stream', 15_000);
  t.equal(updated[0], uri);
});
