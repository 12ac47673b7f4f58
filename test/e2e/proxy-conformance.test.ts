import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import t from 'tap';
import { isJsonContentType } from '@modelcontextprotocol/server';
import { judge, REVISIONS, runSuite, suiteUnavailable } from '../helpers/conformance.js';
import { dist, pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// The MCP conformance suite (0.2.0-alpha.12, `--suite all`, fetched by npx) against the
// mesh-proxy's aggregating /mcp endpoint, at both spec revisions, with the legacy conformance
// fixture behind a sidecar registered as service "conformance". See CONFORMANCE.md §6.
//
// The suite calls fixed names (test_simple_text, test_simple_prompt, ...) and has no option to
// map them; the endpoint serves them as conformance__test_simple_text. So the suite runs twice:
//   proxy-direct — against the proxy's /mcp as it is;
//   proxy-mapped — through a small rewriting HTTP shim (below) that only turns the suite's bare
//                  names into conformance__<name> and its test:// uris into
//                  mesh://conformance/test://…, and undoes both in responses. It separates naming
//                  from real relay gaps.
// Every check must pass except those listed for the target and revision in
// test/fixtures/conformance-expected.json; a listed check that passes fails the test (remove it).
// Four suite runs take ~25 s; a first fetch of node@22 and the suite can take a minute.
t.setTimeout(420_000);
const SERVICE = 'conformance';

/**
 * The name-mapping shim: forwards every request to the proxy unchanged except that bare names in
 * tools/call, prompts/get and completion/complete (ref/prompt) become `service__name`, and uris in
 * resources/read|subscribe|unsubscribe (and a ref/resource) become `mesh://service/uri`, and a
 * 2026-07-28 `Mcp-Name` header follows the rewritten name or uri. In
 * responses (JSON or SSE, rewritten line by line so streams stay streams) `"name":"service__` and
 * `"mesh://service/` lose their prefix. Host and Origin are forwarded as sent, so the proxy's own
 * Host/Origin checks still apply.
 */
function startShim(targetPort: number, service: string, reserved: Set<string>): Promise<{ server: Server; url: string }> {
  const prefix = `${service}__`;
  const up = (name: unknown) => (typeof name === 'string' && !reserved.has(name) && !name.includes('__') ? prefix + name : name);
  const uriPrefix = `mesh://${service}/`;
  const upUri = (uri: unknown) => (typeof uri === 'string' && !uri.startsWith('mesh://') ? uriPrefix + uri : uri);
  const rewrite = (message: any): any => {
    if (Array.isArray(message)) return message.map(rewrite);
    const params = message?.params;
    if (!params) return message;
    if (message.method === 'tools/call' || message.method === 'prompts/get') params.name = up(params.name);
    if (message.method === 'completion/complete' && params.ref?.type === 'ref/prompt') params.ref.name = up(params.ref.name);
    if (message.method === 'completion/complete' && params.ref?.type === 'ref/resource') params.ref.uri = upUri(params.ref.uri);
    if (['resources/read', 'resources/subscribe', 'resources/unsubscribe'].includes(message.method)) params.uri = upUri(params.uri);
    return message;
  };
  const down = (text: string) => text.split(`"name":"${prefix}`).join('"name":"').split(`"${uriPrefix}`).join('"');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      if (body.length > 0 && isJsonContentType(req.headers['content-type'])) {
        try {
          const message = rewrite(JSON.parse(body.toString('utf8')));
          body = Buffer.from(JSON.stringify(message));
          // 2026-07-28: Mcp-Name mirrors params.name / params.uri and must agree with the rewritten body.
          const mirrored = message?.params?.name ?? message?.params?.uri;
          if (headers['mcp-name'] !== undefined && typeof mirrored === 'string') headers['mcp-name'] = mirrored;
        } catch {
          /* not JSON: forward as is, the proxy answers it */
        }
      }
      if (body.length > 0) headers['content-length'] = String(body.length);
      const forward = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (answer) => {
        const answerHeaders = { ...answer.headers };
        delete answerHeaders['content-length'];
        res.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.setEncoding('utf8');
        let pending = '';
        answer.on('data', (text: string) => {
          pending += text;
          const cut = pending.lastIndexOf('\n');
          if (cut >= 0) {
            res.write(down(pending.slice(0, cut + 1)));
            pending = pending.slice(cut + 1);
          }
        });
        answer.on('end', () => res.end(down(pending)));
        answer.on('error', () => res.destroy());
      });
      forward.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(error));
      });
      res.on('close', () => {
        if (!res.writableEnded) forward.destroy(); // the client cancelled a stream: cancel upstream too
      });
      forward.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/mcp` });
    }),
  );
}

const unavailable = await suiteUnavailable();
if (unavailable) {
  t.plan(0, unavailable);
} else {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'] });
  await startSidecar(t, {
    name: SERVICE,
    command: ['node', dist('test/fixtures/conformance-server.js')],
    proxy: proxy.base,
    extra: ['--host', '127.0.0.1', '--heartbeat', '1'],
  });
  await pollJson(`${proxy.base}/v1/services/${SERVICE}`, (status, body) => status === 200 && body.status === 'healthy');

  // The fixture's tools are on the endpoint, namespaced, before the suite starts.
  const client = await connectClient(t, `${proxy.base}/mcp`);
  let names: string[] = [];
  await waitFor(async () => {
    names = (await client.listTools()).tools.map((tool) => tool.name);
    return names.includes(`${SERVICE}__json_schema_2020_12_tool`);
  }, "the fixture's tools are on the endpoint");
  t.ok(names.includes(`${SERVICE}__test_simple_text`) && names.includes(`${SERVICE}__test_input_required_result_elicitation`), "the fixture's tools are listed as conformance__<tool>");
  const meshTools = new Set(names.filter((name) => !name.startsWith(`${SERVICE}__`)));

  await t.test("proxy-direct: the suite against the proxy's /mcp", async (t) => {
    for (const revision of REVISIONS) {
      await t.test(`--spec-version ${revision}`, async (t) => judge(t, await runSuite(t, `${proxy.base}/mcp`, revision), 'proxy-direct', revision));
    }
  });

  await t.test('proxy-mapped: the suite through a shim that maps bare names to conformance__<name>', async (t) => {
    const shim = await startShim(proxy.port, SERVICE, meshTools);
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          shim.server.closeAllConnections();
          shim.server.close(() => resolve());
        }),
    );
    for (const revision of REVISIONS) {
      await t.test(`--spec-version ${revision}`, async (t) => judge(t, await runSuite(t, shim.url, revision), 'proxy-mapped', revision));
    }
  });

  // In a subtest: tap ends the root test (and runs its teardowns) once its last subtest is done.
  await t.test('the proxy and the service are fine after the runs', async (t) => {
    const after = await proxy.api(`/v1/services/${SERVICE}`);
    t.equal(after.body.status, 'healthy', 'the service is still healthy');
    const still = await client.callTool({ name: `${SERVICE}__test_simple_text`, arguments: {} });
    t.match(still.content, [{ type: 'text', text: /simple text/ }], 'and still answers through the proxy');
  });
}
