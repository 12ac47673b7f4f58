import t from 'tap';
import { CallTimeout, errorFromResponse, LoopDetected, MeshClient, MeshClientError, MeshError, ServiceNotFound, ServiceUnavailable, text, ToolError, ToolNotFound } from '../../src/client/index.js';

// The client's HTTP handling with an injected fetch: no proxy, no sockets.
const proxy = 'http://127.0.0.1:6001';

interface Seen {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (seen: Seen) => Response | Promise<Response>, seen: Seen[] = []): typeof fetch {
  return async (url: string | URL | Request, init: RequestInit = {}) => {
    const entry = { url: String(url), init };
    seen.push(entry);
    return answer(entry);
  };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

t.test('errorFromResponse maps each proxy error to its class, with context', async (t) => {
  const cases: [number, string, new (...args: never[]) => MeshError][] = [
    [404, 'SERVICE_NOT_FOUND', ServiceNotFound],
    [404, 'TOOL_NOT_FOUND', ToolNotFound],
    [503, 'SERVICE_UNAVAILABLE', ServiceUnavailable],
    [504, 'CALL_TIMEOUT', CallTimeout],
    [508, 'LOOP_DETECTED', LoopDetected],
  ];
  for (const [status, code, Class] of cases) {
    const error = errorFromResponse(status, { error: { code, message: `m ${code}`, hops: 3 } }, { proxy, service: 'fs', tool: 'x' });
    t.type(error, Class, `${status} ${code}`);
    t.match(error, { code, message: `m ${code}`, context: { proxy, service: 'fs', tool: 'x', httpStatus: status, hops: 3 } });
  }
  const bad = errorFromResponse(400, { error: { code: 'BAD_REQUEST', message: 'invalid call body: arguments' } }, { proxy });
  t.type(bad, MeshClientError);
  t.match(bad, { code: 'BAD_REQUEST', httpStatus: 400 });
  t.match(errorFromResponse(401, 'Unauthorized', { proxy }), { code: 'UNAUTHORIZED', message: /answered HTTP 401: Unauthorized/ });
  t.match(errorFromResponse(401, { error: { code: 'UNAUTHORIZED', message: 'Unauthorized: the bearer token is wrong' } }, { proxy }), {
    code: 'UNAUTHORIZED',
    message: 'Unauthorized: the bearer token is wrong',
  });
  t.match(errorFromResponse(504, '', { proxy }), { code: 'CALL_TIMEOUT', message: /HTTP 504/ }, 'status alone picks the class');
  t.match(errorFromResponse(502, { error: { code: 'CHILD_EXITED', message: 'exited with code 9' } }, { proxy }), { code: 'CHILD_EXITED' });
  t.match(errorFromResponse(404, { error: { code: 'NOT_FOUND', message: 'no route' } }, { proxy }), { code: 'NOT_FOUND', message: 'no route' });
  t.match(
    errorFromResponse(404, { error: { code: 'NO_SUCH_THING', message: 'gone' } }, { proxy }),
    { code: 'INTERNAL', context: { remoteCode: 'NO_SUCH_THING' } },
    "a code that is not MM's is kept as remoteCode",
  );
});

t.test('call sends arguments, deadline, caller, hops and token; returns the result', async (t) => {
  const seen: Seen[] = [];
  const mesh = new MeshClient({
    proxy,
    caller: 'app',
    hops: 2,
    timeoutMs: 1234,
    token: 's3cret',
    fetch: fakeFetch(
      () =>
        json(200, {
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        }),
      seen,
    ),
  });
  const result = await mesh.call('my svc', 'do/it', { n: 1 });
  t.equal(text(result), 'a\nb');
  t.equal(text(result, ''), 'ab');
  const [first] = seen;
  t.equal(first?.url, `${proxy}/v1/services/my%20svc/tools/do%2Fit/call`, 'names are URL-encoded');
  t.same(JSON.parse(String(first?.init.body)), { arguments: { n: 1 }, deadlineMs: 1234 });
  t.match(first?.init.headers, { 'x-mesh-caller': 'app', 'x-mesh-hops': '2', authorization: 'Bearer s3cret', 'content-type': 'application/json' });
  t.equal(first?.init.method, 'POST');
});

t.test('an isError result throws ToolError with the content', async (t) => {
  const content = [{ type: 'text', text: 'file not found: x.txt' }];
  const mesh = new MeshClient({ proxy, fetch: fakeFetch(() => json(200, { content, isError: true })) });
  const error = await mesh.call('fs', 'read_text', { path: 'x.txt' }).catch((e: unknown) => e);
  t.type(error, ToolError);
  t.same((error as ToolError).content, content);
  t.equal((error as ToolError).message, 'fs.read_text failed: file not found: x.txt');
});

t.test('a proxy that never answers: the client-side deadline fires as CallTimeout', async (t) => {
  const never = fakeFetch(({ init }) => new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))));
  const mesh = new MeshClient({ proxy, fetch: never });
  // timeoutMs 10 + the 2 s grace given to the proxy to answer first.
  const error = await mesh.call('fs', 'slow', {}, { timeoutMs: 10 }).catch((e: unknown) => e);
  t.type(error, CallTimeout);
  t.match(error, { context: { proxy, service: 'fs', tool: 'slow' }, message: /fs\.slow did not answer/ });
  const controller = new AbortController();
  const pending = mesh.call('fs', 'slow', {}, { signal: controller.signal }).catch((e: unknown) => e);
  controller.abort();
  t.match(await pending, { code: 'CALL_CANCELLED', message: /cancelled by the caller/ });
});

t.test('answers that are not the mesh API are named', async (t) => {
  const html = new MeshClient({ proxy, fetch: fakeFetch(() => new Response('<html>hi</html>', { status: 200 })) });
  await t.rejects(html.services(), { code: 'INTERNAL' });
  const empty = new MeshClient({ proxy, fetch: fakeFetch(() => new Response('', { status: 200 })) });
  await t.rejects(empty.call('a', 'b'), { code: 'INTERNAL', message: /no JSON/ });
  const notResult = new MeshClient({ proxy, fetch: fakeFetch(() => json(200, { hello: 1 })) });
  await t.rejects(notResult.call('a', 'b'), { code: 'INTERNAL', message: /without a tool result/ });
});

t.test('services() passes its filters as query parameters', async (t) => {
  const seen: Seen[] = [];
  const mesh = new MeshClient({ proxy: `${proxy}/`, fetch: fakeFetch(() => json(200, { services: [] }), seen) });
  await mesh.services();
  await mesh.services({ status: 'healthy', tag: 'a b' });
  t.same(
    seen.map((s) => s.url),
    [`${proxy}/v1/services`, `${proxy}/v1/services?status=healthy&tag=a+b`],
  );
});
