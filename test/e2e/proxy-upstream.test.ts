// The proxy → instance hop: plain JSON posts on one pooled session per instance. These cover what
// that path must survive besides plain answers: a streamed (SSE) answer and a session the instance
// no longer knows after a restart on the same port.
import t from 'tap';
import { fixture, pollJson } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

const echo = ['python3', fixture('echo_server.py')];

t.test('an answer streamed after a log message, and a session lost to a restart', async (t) => {
  const proxy = await startProxy(t);
  const first = await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base });
  await pollJson(`${proxy.base}/v1/services/echo`, (status, body) => status === 200 && body.healthyCount === 1);
  const call = (tool: string, text: string) => proxy.api(`/v1/services/echo/tools/${tool}/call`, { method: 'POST', body: JSON.stringify({ arguments: { text } }) });

  const logged = await call('log', 'streamed');
  t.equal(logged.status, 200, 'a call whose answer comes after a log message succeeds');
  t.equal(logged.body.content?.[0]?.text, 'logged', "and carries the tool's answer");
  t.equal((await call('echo', 'before')).body.content?.[0]?.text, 'before');

  // SIGKILL: no deregistration, so the proxy keeps the instance (same id, same url) and its session id.
  await first.stop('SIGKILL');
  await startSidecar(t, { name: 'echo', command: echo, proxy: proxy.base, port: first.port });
  const after = await call('echo', 'after');
  t.equal(after.status, 200, `the first call after the restart succeeds (${JSON.stringify(after.body).slice(0, 200)})`);
  t.equal(after.body.content?.[0]?.text, 'after', 'the proxy opened a new session and sent the call again');
});
