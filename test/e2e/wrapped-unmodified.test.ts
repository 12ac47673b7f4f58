import t from 'tap';
import { dist, fixture } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// Issue 10: "a modern-only stdio server and an old legacy-only one, both wrapped unmodified".
// A legacy client (the v2 SDK Client in its default mode: initialize, then a session) lists and
// calls the child's tools through the sidecar.

t.test('an old legacy-only stdio server (Python standard library, knows only initialize)', async (t) => {
  // echo_server.py answers server/discover with -32601: the sidecar must fall back to initialize.
  const sidecar = await startSidecar(t, { name: 'old', command: ['python3', fixture('echo_server.py')] });
  const client = await connectClient(t, sidecar.url);
  const names = (await client.listTools()).tools.map((tool) => tool.name);
  t.ok(names.includes('echo'), `its tools are listed: ${names.join(', ')}`);
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hello, old server' } });
  t.same(result.content, [{ type: 'text', text: 'hello, old server' }], 'and a call reaches it and comes back');
});

t.test('a modern-only stdio server (v2 SDK serveStdio, legacy: reject)', async (t) => {
  const sidecar = await startSidecar(t, {
    name: 'modern',
    command: ['node', dist('test/fixtures/modern-only-server.js')],
    // Give up early instead of after the helper's 20 s when the child cannot start.
    waitFor: (health) => health.state === 'ready' || health.restarts >= 1,
  });
  const health = await sidecar.health();
  t.equal(health.state, 'ready', `the sidecar is ready over the modern-only child (state ${health.state})`);
  if (health.state !== 'ready') return;
  const client = await connectClient(t, sidecar.url);
  const names = (await client.listTools()).tools.map((tool) => tool.name);
  t.same(names, ['shout'], 'its tool is listed');
  const result = await client.callTool({ name: 'shout', arguments: { text: 'hello, modern server' } });
  t.same(result.content, [{ type: 'text', text: 'HELLO, MODERN SERVER' }], 'and a call reaches it and comes back');
});
