import t from 'tap';
import { fixture } from '../helpers/processes.js';
import { startSidecar } from '../helpers/sidecar.js';
import { connectModern, postModern } from '../helpers/modern.js';

// SEP-2243 in front of a legacy child: its tool "region" marks region, count and where.zone with
// x-mcp-header, so a 2026-07-28 tools/call must repeat them in Mcp-Param-* headers (else 400, -32020).
const sidecar = await startSidecar(t, { name: 'asker', command: ['python3', fixture('ask_client_server.py')] });
const b64 = (text: string) => `=?base64?${Buffer.from(text).toString('base64')}?=`;

// The lean path (a plain tools/call) and the SDK path (a progress token sends it through the per-request server).
const paths = [
  ['lean', {}],
  ['sdk', { progressToken: 'p' }],
] as const;
const call = (args: Record<string, unknown>, headers: Record<string, string>, meta: object) => postModern(sidecar.url, 'tools/call', { name: 'region', arguments: args, _meta: meta }, headers);

t.test('headers that repeat the marked arguments are accepted', async (t) => {
  const accepted: [string, Record<string, unknown>, Record<string, string>][] = [
    ['plain value', { region: 'eu-west', note: 'x' }, { 'mcp-param-region': 'eu-west' }],
    ['Base64 value', { region: 'Hello' }, { 'mcp-param-region': b64('Hello') }],
    ['non-ASCII in Base64', { region: 'Zürich' }, { 'mcp-param-region': b64('Zürich') }],
    ['no suffix: a literal', { region: '=?base64?SGVsbG8=' }, { 'mcp-param-region': '=?base64?SGVsbG8=' }],
    ['integer compared as a number', { count: 42 }, { 'mcp-param-count': '42.0' }],
    ['nested argument', { where: { zone: 'a' } }, { 'mcp-param-zone': 'a' }],
    ['absent argument: the header is ignored', { note: 'n' }, { 'mcp-param-region': 'anything' }],
    ['null argument needs no header', { region: null }, {}],
  ];
  for (const [path, meta] of paths) {
    for (const [what, args, headers] of accepted) {
      const answer = await call(args, headers, meta);
      t.equal(answer.status, 200, `${path}: ${what}: HTTP 200`);
      t.same(JSON.parse(answer.body.result?.content?.[0]?.text ?? 'null'), args, `${path}: ${what}: the child got the call`);
    }
  }
});

t.test('a missing, disagreeing or badly encoded header is refused: 400, -32020', async (t) => {
  const refused: [string, Record<string, unknown>, Record<string, string>, RegExp][] = [
    ['missing header', { region: 'eu-west' }, {}, /Mcp-Param-Region header is absent/],
    ['different value', { region: 'eu-west' }, { 'mcp-param-region': 'us-east' }, /decodes to "us-east" but the body carries arguments.region="eu-west"/],
    ['Base64 without padding', { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVsbG8?=' }, /not canonical Base64/],
    ['Base64 with foreign characters', { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVs!!!bG8=?=' }, /not canonical Base64/],
    ['another integer', { count: 42 }, { 'mcp-param-count': '43' }, /Mcp-Param-Count/],
    ['nested argument without its header', { where: { zone: 'a' } }, {}, /Mcp-Param-Zone header is absent/],
  ];
  for (const [path, meta] of paths) {
    for (const [what, args, headers, message] of refused) {
      const answer = await call(args, headers, meta);
      t.equal(answer.status, 400, `${path}: ${what}: HTTP 400`);
      t.equal(answer.body.error?.code, -32020, `${path}: ${what}: HeaderMismatch`);
      t.match(answer.body.error?.message, message, `${path}: ${what}: says what disagrees`);
    }
  }
});

t.test('a modern SDK client mirrors the marked arguments itself and is served', async (t) => {
  const client = await connectModern(t, sidecar.url);
  const result = await client.callTool({ name: 'region', arguments: { region: 'Zürich', count: 7, where: { zone: 'b' } } });
  t.same(JSON.parse((result.content as { text: string }[])[0]!.text), { count: 7, region: 'Zürich', where: { zone: 'b' } });
});
