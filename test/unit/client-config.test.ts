// `mesh config` for each client: the snippet has the shape the client documents, names the token
// without printing it, and prints it only on --show-token.
import t from 'tap';
import { z } from 'zod';
import { claudeDesktopConfig, cursorConfig, vscodeConfig, type ClientTarget } from '../../sidecar/mesh/client-config.js';
import { claudeConfig } from '../../sidecar/mesh/commands/config.js';

const headers = z.record(z.string(), z.string());

// Claude Code, .mcp.json (code.claude.com/docs/en/mcp): `mcpServers`, an HTTP server is `type: "http"`, `url`, optional `headers`; `${VAR}` expands.
const ClaudeCodeJson = z.strictObject({ mcpServers: z.record(z.string(), z.strictObject({ type: z.literal('http'), url: z.url(), headers: headers.optional() })) });

// Claude Desktop, claude_desktop_config.json: `mcpServers` of stdio servers only (`command`, `args`, `env`); a remote server goes through mcp-remote.
const ClaudeDesktopJson = z.strictObject({
  mcpServers: z.record(z.string(), z.strictObject({ command: z.string().min(1), args: z.array(z.string()), env: z.record(z.string(), z.string()).optional() })),
});

// Cursor, mcp.json (cursor.com/docs/mcp): `mcpServers`; a remote server has `url` (no `command`) and optional `headers`; `${env:NAME}` expands.
const CursorJson = z.strictObject({ mcpServers: z.record(z.string(), z.strictObject({ url: z.url(), headers: headers.optional() })) });

// VS Code, .vscode/mcp.json (code.visualstudio.com/docs/copilot/reference/mcp-configuration): `servers` with `type: "http"`, `url`, `headers`;
// `inputs` of `promptString` (id, description, password) referenced as `${input:id}`.
const VsCodeInput = z.strictObject({ type: z.literal('promptString'), id: z.string().min(1), description: z.string().min(1), password: z.boolean().optional() });
const VsCodeJson = z.strictObject({
  inputs: z.array(VsCodeInput).optional(),
  servers: z.record(z.string(), z.strictObject({ type: z.literal('http'), url: z.url(), headers: headers.optional() })),
});

const base: ClientTarget = { proxyUrl: 'http://127.0.0.1:6001', name: 'mesh' };
const withToken: ClientTarget = { ...base, token: { value: 's3cret', show: false } };
const shown: ClientTarget = { ...base, token: { value: 's3cret', show: true } };

t.test('claude-desktop: a stdio entry running mcp-remote on the Streamable HTTP endpoint', async (t) => {
  const plain = ClaudeDesktopJson.parse(claudeDesktopConfig(base).mcpJson).mcpServers.mesh!;
  t.same(plain, { command: 'npx', args: ['-y', 'mcp-remote', 'http://127.0.0.1:6001/mcp', '--transport', 'http-only'] }, 'no token: no header, no env');
  const tokened = ClaudeDesktopJson.parse(claudeDesktopConfig(withToken).mcpJson).mcpServers.mesh!;
  t.same(tokened.args.slice(-2), ['--header', 'Authorization:${MESH_AUTH_HEADER}'], "mcp-remote's documented header form (no space in the argument)");
  t.equal(tokened.env?.MESH_AUTH_HEADER, 'Bearer <the value of MESH_TOKEN>', 'a placeholder, not the token');
  t.notMatch(JSON.stringify(claudeDesktopConfig(withToken)), /s3cret/);
  t.equal(ClaudeDesktopJson.parse(claudeDesktopConfig(shown).mcpJson).mcpServers.mesh!.env?.MESH_AUTH_HEADER, 'Bearer s3cret', '--show-token fills it in');
  const lan = claudeDesktopConfig({ ...base, proxyUrl: 'http://10.0.0.5:6001' }).mcpJson.mcpServers.mesh!;
  t.ok(lan.args.includes('--allow-http'), 'plain http beyond localhost needs --allow-http');
  t.notOk(claudeDesktopConfig({ ...base, proxyUrl: 'https://mesh.lan' }).mcpJson.mcpServers.mesh!.args.includes('--allow-http'), 'https needs nothing');
});

t.test('cursor: url and headers, the token from ${env:MESH_TOKEN}', async (t) => {
  t.same(CursorJson.parse(cursorConfig(base).mcpJson), { mcpServers: { mesh: { url: 'http://127.0.0.1:6001/mcp' } } });
  t.same(CursorJson.parse(cursorConfig(withToken).mcpJson).mcpServers.mesh!.headers, { Authorization: 'Bearer ${env:MESH_TOKEN}' });
  t.notMatch(JSON.stringify(cursorConfig(withToken)), /s3cret/);
  t.same(cursorConfig(shown).mcpJson.mcpServers.mesh!.headers, { Authorization: 'Bearer s3cret' });
});

t.test('vscode: servers of type http, a password input for the token, code --add-mcp when nothing is asked', async (t) => {
  const plain = vscodeConfig(base);
  t.same(VsCodeJson.parse(plain.mcpJson), { servers: { mesh: { type: 'http', url: 'http://127.0.0.1:6001/mcp' } } });
  t.equal(plain.command, `code --add-mcp '{"name":"mesh","type":"http","url":"http://127.0.0.1:6001/mcp"}'`);
  const tokened = VsCodeJson.parse(vscodeConfig(withToken).mcpJson);
  const reference = /\$\{input:([^}]+)\}/.exec(tokened.servers.mesh!.headers?.Authorization ?? '');
  t.ok(reference, 'the header refers to an input');
  const input = tokened.inputs?.find((i) => i.id === reference?.[1]);
  t.ok(input, 'the input it refers to is declared');
  t.equal(input?.password, true, 'typed as a password');
  t.equal(vscodeConfig(withToken).command, undefined, 'code --add-mcp cannot declare the input: mcp.json only');
  t.notMatch(JSON.stringify(vscodeConfig(withToken)), /s3cret/);
  const open = VsCodeJson.parse(vscodeConfig(shown).mcpJson);
  t.same(open, { servers: { mesh: { type: 'http', url: 'http://127.0.0.1:6001/mcp', headers: { Authorization: 'Bearer s3cret' } } } }, '--show-token: no input to ask');
});

t.test('claude: the documented .mcp.json shape; --view and --show-token', async (t) => {
  ClaudeCodeJson.parse(claudeConfig('http://127.0.0.1:6001', 'mesh', false, undefined).mcpJson);
  const viewed = claudeConfig('http://127.0.0.1:6001', 'mesh', true, undefined, { view: 'writing' });
  t.equal(viewed.url, 'http://127.0.0.1:6001/mcp/writing', 'a view has its own endpoint');
  t.equal(ClaudeCodeJson.parse(viewed.mcpJson).mcpServers.mesh!.headers?.Authorization, 'Bearer ${MESH_TOKEN}');
  const open = claudeConfig('http://127.0.0.1:6001', 'mesh', true, undefined, { token: 's3cret' });
  t.equal(open.command, "claude mcp add --transport http mesh http://127.0.0.1:6001/mcp --header 'Authorization: Bearer s3cret'", '--show-token: the token, single-quoted');
  t.equal(ClaudeCodeJson.parse(open.mcpJson).mcpServers.mesh!.headers?.Authorization, 'Bearer s3cret');
});

t.test('every client: a view is /mcp/<view>', async (t) => {
  const view = { ...base, view: 'writing' };
  t.equal(cursorConfig(view).url, 'http://127.0.0.1:6001/mcp/writing');
  t.equal(vscodeConfig(view).url, 'http://127.0.0.1:6001/mcp/writing');
  t.ok(claudeDesktopConfig(view).mcpJson.mcpServers.mesh!.args.includes('http://127.0.0.1:6001/mcp/writing'));
});
