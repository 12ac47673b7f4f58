import t from 'tap';
import { modernDiscovery, modernEnvelope, PROBE_ID, probeRequest } from '../../src/stdio/era-probe.js';

// The stdio rule of 2026-07-28: a DiscoverResult offering our revision is a modern server; any other answer a legacy one.
const discover = (supportedVersions: string[]) => ({
  jsonrpc: '2.0' as const,
  id: PROBE_ID,
  result: { supportedVersions, capabilities: { tools: {} }, _meta: { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '1' } } },
});

t.test('which probe answers prove a modern child', async (t) => {
  t.ok(modernDiscovery(discover(['2026-07-28'])), 'a DiscoverResult offering 2026-07-28');
  t.equal(modernDiscovery(discover(['2027-01-01'])), undefined, 'not one offering only a revision we do not speak');
  t.equal(modernDiscovery({ jsonrpc: '2.0', id: PROBE_ID, error: { code: -32601, message: 'Method not found' } }), undefined, 'not method-not-found');
  t.equal(modernDiscovery({ jsonrpc: '2.0', id: PROBE_ID, error: { code: -32022, message: 'Unsupported', data: { supported: ['2027-01-01'] } } }), undefined, 'not -32022 naming nothing we speak');
  t.equal(modernDiscovery({ jsonrpc: '2.0', id: PROBE_ID, result: { ok: true } }), undefined, 'not a result of another shape');
});

t.test('the probe carries the envelope a modern client sends', async (t) => {
  const clientInfo = { name: 'mesh-sidecar/x', version: '1' };
  const request = probeRequest(clientInfo, { elicitation: {} });
  t.match(request, { id: PROBE_ID, method: 'server/discover', params: { _meta: modernEnvelope(clientInfo, { elicitation: {} }) } });
  t.same(Object.keys(request.params?._meta ?? {}).sort(), ['io.modelcontextprotocol/clientCapabilities', 'io.modelcontextprotocol/clientInfo', 'io.modelcontextprotocol/protocolVersion']);
});
