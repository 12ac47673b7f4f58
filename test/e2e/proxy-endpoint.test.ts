import t from 'tap';
import type { Client } from '@modelcontextprotocol/client';
import { connectListeningClient } from '../helpers/listening-client.js';
import { everythingServer, fixture, pollJson } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// The proxy's MCP endpoint as a real client sees it: list_changed as services come and go, stable
// names, resources and prompts of a real server, register_service/deregister_service by URL.
const fast = ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'];
const everything = ['node', everythingServer, 'stdio'];

type Kind = 'tools' | 'resources' | 'prompts';

/**
 * Watches a client's list_changed notifications. `after(kind, check)` resolves once a notification
 * of that kind has arrived (since the watcher was armed) and `check` then holds; it never sleeps.
 */
function watchLists(client: Client) {
  const seen: Record<Kind, number> = { tools: 0, resources: 0, prompts: 0 };
  const waiters = new Set<() => void>();
  const bump = (kind: Kind) => () => {
    seen[kind]++;
    for (const wake of [...waiters]) wake();
  };
  client.setNotificationHandler('notifications/tools/list_changed', bump('tools'));
  client.setNotificationHandler('notifications/resources/list_changed', bump('resources'));
  client.setNotificationHandler('notifications/prompts/list_changed', bump('prompts'));
  return {
    seen,
    /** Arms a wait for the next `kind` notification after which `check` holds. */
    arm(kind: Kind, check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
      const from = seen[kind];
      return new Promise<void>((resolve, reject) => {
        let busy = false;
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no ${kind} list_changed after which ${what} (seen ${seen[kind] - from} since armed)`));
        }, timeoutMs);
        const wake = () => {
          if (busy || seen[kind] === from) return;
          busy = true;
          check()
            .then((ok) => {
              busy = false;
              if (!ok) return;
              clearTimeout(timer);
              waiters.delete(wake);
              resolve();
            })
            .catch((error) => {
              busy = false;
              clearTimeout(timer);
              waiters.delete(wake);
              reject(error);
            });
        };
        waiters.add(wake);
      });
    },
  };
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);

t.test('list_changed as a sidecar joins and leaves; names stable across leave and rejoin; resources and prompts', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const client = await connectListeningClient(t, `${proxy.base}/mcp`);
  t.match(client.getServerCapabilities(), { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } });
  const lists = watchLists(client);
  t.same((await client.listResources()).resources, [], 'no resources before any service joined');

  const hasEverything = async () => (await toolNames(client)).includes('everything__echo');
  const toolsJoined = lists.arm('tools', hasEverything, 'everything__echo is listed');
  const resourcesJoined = lists.arm('resources', async () => (await client.listResources()).resources.length > 0, 'resources are listed');
  const promptsJoined = lists.arm('prompts', async () => (await client.listPrompts()).prompts.length > 0, 'prompts are listed');
  const sidecar = await startSidecar(t, { name: 'everything', command: everything, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await toolsJoined;
  t.pass('tools/list_changed when the sidecar joined');
  await resourcesJoined;
  t.pass('resources/list_changed when the sidecar joined');
  await promptsJoined;
  t.pass('prompts/list_changed when the sidecar joined');

  const tools = await toolNames(client);
  const { resources } = await client.listResources();
  const { resourceTemplates } = await client.listResourceTemplates();
  const { prompts } = await client.listPrompts();
  const architecture = resources.find((r) => r.uri === 'mesh://everything/demo://resource/static/document/architecture.md');
  t.ok(architecture, 'a static resource under mesh://<service>/<its own uri>');
  t.match(architecture, {
    name: 'architecture.md',
    mimeType: 'text/markdown',
    description: /^\[everything\] /,
    _meta: { 'mesh/service': 'everything', 'mesh/uri': 'demo://resource/static/document/architecture.md' },
  });
  t.ok(
    resources.every((r) => r.uri.startsWith('mesh://everything/')),
    'every resource is namespaced',
  );
  const textTemplate = resourceTemplates.find((r) => r.uriTemplate === 'mesh://everything/demo://resource/dynamic/text/{resourceId}');
  t.ok(textTemplate, 'templates are namespaced the same way');
  t.match(textTemplate?._meta, { 'mesh/uriTemplate': 'demo://resource/dynamic/text/{resourceId}' });
  const promptNames = prompts.map((p) => p.name);
  for (const name of ['everything__simple-prompt', 'everything__args-prompt', 'everything__resource-prompt']) t.ok(promptNames.includes(name), `lists prompt ${name}`);
  t.match(
    prompts.find((p) => p.name === 'everything__args-prompt'),
    { arguments: [{ name: 'city', required: true }, { name: 'state' }], _meta: { 'mesh/prompt': 'args-prompt' } },
  );

  const read = await client.readResource({ uri: architecture!.uri });
  t.equal(read.contents[0]?.uri, architecture!.uri, 'contents carry the uri the client asked for');
  t.match((read.contents[0] as { text?: string }).text, /Architecture/);
  const expanded = textTemplate!.uriTemplate.replace('{resourceId}', '7');
  const dynamic = await client.readResource({ uri: expanded });
  t.equal(dynamic.contents[0]?.uri, expanded);
  t.match((dynamic.contents[0] as { text?: string }).text, /7/, 'a template expands and reads through the proxy');

  const simple = await client.getPrompt({ name: 'everything__simple-prompt' });
  t.ok(simple.messages.length > 0);
  const withArgs = await client.getPrompt({ name: 'everything__args-prompt', arguments: { city: 'Lisbon', state: 'Estremadura' } });
  t.match(JSON.stringify(withArgs.messages), /Lisbon/, 'prompt arguments reach the service');
  const embedding = await client.getPrompt({ name: 'everything__resource-prompt', arguments: { resourceType: 'Text', resourceId: '3' } });
  const embedded = embedding.messages.map((m) => m.content).find((c) => c.type === 'resource');
  t.match(embedded, { resource: { uri: /^mesh:\/\/everything\/demo:\/\/resource\/dynamic\/text\/3$/ } }, 'an embedded resource points through the proxy');
  const again = await client.readResource({ uri: (embedded as { resource: { uri: string } }).resource.uri });
  t.match((again.contents[0] as { text?: string }).text, /3/, 'and reads through it');

  const linked = await client.callTool({ name: 'everything__get-resource-links', arguments: { count: 2 } });
  const links = (linked.content as { type: string; uri?: string }[]).filter((c) => c.type === 'resource_link');
  t.same(
    links.map((l) => l.uri),
    ['mesh://everything/demo://resource/dynamic/blob/1', 'mesh://everything/demo://resource/dynamic/text/2'],
    'resource links in tool results point through the proxy',
  );
  const followed = await client.readResource({ uri: links[1]!.uri! });
  t.equal(followed.contents[0]?.uri, links[1]!.uri, 'and a link can be followed');

  await t.rejects(client.getPrompt({ name: 'everything__nope' }), { code: -32602, message: /service "everything" has no prompt "nope"; its prompts: .*everything__simple-prompt/ });
  await t.rejects(client.getPrompt({ name: 'ghost__greet' }), { code: -32602, message: /unknown service "ghost"; known services: everything/ });
  await t.rejects(client.readResource({ uri: 'demo://resource/static/document/architecture.md' }), { code: -32602, message: /resources of the mesh are named mesh:\/\/<service>/ });
  await t.rejects(client.readResource({ uri: 'mesh://ghost/demo://x' }), { code: -32602, message: /unknown service "ghost"/ });
  await t.rejects(client.readResource({ uri: 'mesh://everything/demo://resource/static/document/nope.md' }), { message: /everything resource "demo:\/\/resource\/static\/document\/nope\.md"/ });

  // Leaving: a clean exit deregisters; the endpoint says its lists changed.
  const toolsLeft = lists.arm('tools', async () => !(await hasEverything()), 'everything__echo is gone');
  const resourcesLeft = lists.arm('resources', async () => (await client.listResources()).resources.length === 0, 'resources are gone');
  const promptsLeft = lists.arm('prompts', async () => (await client.listPrompts()).prompts.length === 0, 'prompts are gone');
  await sidecar.stop('SIGTERM');
  await toolsLeft;
  t.pass('tools/list_changed when the sidecar left');
  await resourcesLeft;
  await promptsLeft;
  t.pass('resources and prompts list_changed when the sidecar left');
  await t.rejects(client.readResource({ uri: architecture!.uri }), { code: -32602, message: /unknown service "everything"/ });
  await t.rejects(client.getPrompt({ name: 'everything__simple-prompt' }), { code: -32602, message: /unknown service "everything"/ });

  // Rejoining (another process, another port): the same names.
  const toolsBack = lists.arm('tools', hasEverything, 'everything__echo is back');
  const resourcesBack = lists.arm('resources', async () => (await client.listResources()).resources.length > 0, 'resources are back');
  await startSidecar(t, { name: 'everything', command: everything, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await toolsBack;
  await resourcesBack;
  t.same((await toolNames(client)).sort(), [...tools].sort(), 'tool names are the same after a leave and rejoin');
  t.same((await client.listResources()).resources.map((r) => r.uri).sort(), resources.map((r) => r.uri).sort(), 'resource uris are the same');
  t.same((await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate).sort(), resourceTemplates.map((r) => r.uriTemplate).sort());
  t.same((await client.listPrompts()).prompts.map((p) => p.name).sort(), [...promptNames].sort(), 'prompt names are the same');
  const reread = await client.readResource({ uri: architecture!.uri });
  t.match((reread.contents[0] as { text?: string }).text, /Architecture/, 'the old uri reads from the new instance');
});

t.test('a sidecar going unhealthy drops out of the lists; reading it fails clearly', async (t) => {
  const proxy = await startProxy(t, { extra: fast });
  const client = await connectListeningClient(t, `${proxy.base}/mcp`);
  const lists = watchLists(client);
  const joined = lists.arm('resources', async () => (await client.listResources()).resources.length > 0, 'resources are listed');
  const sidecar = await startSidecar(t, { name: 'everything', command: everything, proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await joined;
  const uri = (await client.listResources()).resources[0]!.uri;
  const dropped = lists.arm('resources', async () => (await client.listResources()).resources.length === 0, 'resources are gone');
  await sidecar.stop('SIGKILL'); // no deregistration: the proxy notices the silence
  await pollJson(`${proxy.base}/v1/services/everything`, (status, body) => status === 200 && body.status === 'unhealthy');
  await dropped;
  t.pass('resources/list_changed when the service went unhealthy');
  await t.rejects(client.readResource({ uri }), { message: /service "everything" has no healthy instance/ });
  t.notOk((await toolNames(client)).includes('everything__echo'), 'its tools are gone too');
});

t.test("register_service by URL makes a standalone sidecar's tools appear; deregister_service removes them", async (t) => {
  const proxy = await startProxy(t); // default timings: an instance registered by URL is not expired mid-test
  const solo = await startSidecar(t, { name: 'solo', command: ['python3', fixture('echo_server.py')] });
  t.equal((await proxy.api('/v1/services')).body.services.length, 0, 'a --no-proxy sidecar does not register itself');
  const client = await connectListeningClient(t, `${proxy.base}/mcp`);
  const lists = watchLists(client);

  const appeared = lists.arm('tools', async () => (await toolNames(client)).includes('solo__echo'), 'solo__echo is listed');
  const registered = await client.callTool({ name: 'register_service', arguments: { name: 'solo', url: solo.url, tags: ['manual'] } });
  t.notOk(registered.isError, JSON.stringify(registered.content));
  const { id, tools, lease } = registered.structuredContent as { id: string; tools: number; lease: string };
  t.ok(id && tools >= 5, `registered ${id} with ${tools} tools`);
  t.match(lease, /^[A-Za-z0-9_-]{43}$/, "register_service answers with the instance's lease");
  await appeared;
  t.pass('tools/list_changed after register_service');
  const echoed = await client.callTool({ name: 'solo__echo', arguments: { text: 'through the mesh' } });
  t.match(echoed.content, [{ type: 'text', text: 'through the mesh' }]);
  const service = await proxy.api('/v1/services/solo');
  t.match(service.body, { status: 'healthy', tags: ['manual'], instances: [{ id, url: solo.url, kind: 'native' }] });

  // The instance's own tools/list_changed re-lists an instance registered by URL (nobody else will).
  const added = lists.arm('tools', async () => (await toolNames(client)).includes('solo__extra'), 'solo__extra is listed');
  await client.callTool({ name: 'solo__add_tool', arguments: { name: 'extra' } });
  await added;
  t.pass('a tool added at runtime appears under its namespaced name');

  const beat = await client.callTool({ name: 'heartbeat', arguments: { id, lease } });
  t.match(beat.structuredContent, { ok: true, id });
  const stranger = await client.callTool({ name: 'heartbeat', arguments: { id, lease: 'A'.repeat(43) } });
  t.equal(stranger.isError, true, 'a heartbeat with another lease is refused');

  const gone = lists.arm('tools', async () => !(await toolNames(client)).some((name) => name.startsWith('solo__')), 'solo tools are gone');
  const deregistered = await client.callTool({ name: 'deregister_service', arguments: { id } });
  t.match(deregistered.structuredContent, { deregistered: id });
  await gone;
  t.pass('tools/list_changed after deregister_service');
  t.equal((await proxy.api('/v1/services/solo')).status, 404);
  await t.rejects(client.callTool({ name: 'deregister_service', arguments: { id } }), { code: -32602, message: new RegExp(`no instance with id "${id.replace(/\./g, '\\.')}"`) });
  await t.rejects(client.callTool({ name: 'solo__echo', arguments: { text: 'x' } }), { code: -32602, message: /unknown service "solo"/ });

  const unreachable = await client.callTool({ name: 'register_service', arguments: { name: 'ghost', url: 'http://127.0.0.1:9/mcp' } });
  t.equal(unreachable.isError, true);
  t.match((unreachable.content as { text: string }[])[0]?.text, /cannot reach an MCP server at http:\/\/127\.0\.0\.1:9\/mcp/);
  await t.rejects(client.callTool({ name: 'register_service', arguments: { name: 'Bad Name', url: solo.url } }), { message: /name/ });
  t.equal((await proxy.api('/v1/services')).body.services.length, 0, 'nothing registered by the failed attempts');
});
