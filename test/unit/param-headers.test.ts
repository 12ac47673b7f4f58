import t from 'tap';
import type { Tool } from '@modelcontextprotocol/server';
import { checkParamHeaders, paramHeadersFor } from '../../src/era/param-headers.js';

const tool: Tool = {
  name: 'place',
  inputSchema: {
    type: 'object',
    properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, count: { type: 'integer', 'x-mcp-header': 'Count' }, note: { type: 'string' } },
  },
};

t.test('the headers a proxy sends for a call are the ones an instance checks for', async (t) => {
  for (const args of [{ region: 'eu-west', count: 3, note: 'x' }, { region: 'Zürich ü' }, { count: 0 }, {}]) {
    const headers = paramHeadersFor(tool, args);
    t.equal(checkParamHeaders(tool, args, headers, 1), undefined, `accepted: ${JSON.stringify(args)} with ${JSON.stringify(headers)}`);
  }
  t.same(paramHeadersFor(tool, { region: 'eu-west', count: 3 }), { 'mcp-param-region': 'eu-west', 'mcp-param-count': '3' }, 'plain values as they are');
  t.match(paramHeadersFor(tool, { region: 'Zürich' })['mcp-param-region'], /^=\?base64\?[A-Za-z0-9+/=]+\?=$/, 'anything else Base64-wrapped');
  t.same(paramHeadersFor(tool, { note: 'x' }), {}, 'an argument without x-mcp-header gets no header');
  t.ok(checkParamHeaders(tool, { region: 'eu-west' }, {}, 1), 'and without them the instance refuses');
});
