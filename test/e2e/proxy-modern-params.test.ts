import t from 'tap';
import { dist, pollJson, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';
import { postModern } from '../helpers/modern.js';

// SEP-2243 on the proxy's 2026-07-28 /mcp: a service tool whose inputSchema marks an argument with
// x-mcp-header (the conformance fixture's test_x_mcp_header: region -> Mcp-Param-Region) is
// served as conformance__test_x_mcp_header, and its Mcp-Param-* header must agree with the argument.
t.test("a tools/call's Mcp-Param-* headers are checked against its arguments on the proxy", async (t) => {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '10'] });
  await startSidecar(t, { name: 'conformance', command: ['node', dist('test/fixtures/conformance-server.js')], proxy: proxy.base });
  await pollJson(`${proxy.base}/v1/services/conformance`, (status, body) => status === 200 && body.status === 'healthy');
  const url = `${proxy.base}/mcp`;
  const call = (headers: Record<string, string>, id: number) => postModern(url, 'tools/call', { name: 'conformance__test_x_mcp_header', arguments: { region: 'eu-west', level: 2 } }, headers, id);
  await waitFor(async () => (await call({ 'mcp-param-region': 'eu-west' }, 1)).status === 200, 'the tool is served through the proxy');

  const matching = await call({ 'mcp-param-region': 'eu-west' }, 2);
  t.match(matching.body, { id: 2, result: { content: [{ text: 'region=eu-west' }] } }, 'a header that agrees with the argument: the call runs');
  const mismatch = await call({ 'mcp-param-region': 'us-east' }, 3);
  t.equal(mismatch.status, 400, 'a header that disagrees: HTTP 400');
  t.match(mismatch.body, { id: 3, error: { code: -32020 } }, 'with HeaderMismatch (-32020)');
  const missing = await call({}, 4);
  t.equal(missing.status, 400, 'an argument without its header: HTTP 400');
  t.match(missing.body, { id: 4, error: { code: -32020 } });
});
