/**
 * The snippets that put the mesh's MCP endpoint into each MCP client, in the client's own
 * documented format. Pure functions: the `mesh config` commands print what these return.
 */

/** What every client's snippet is made of. */
export interface ClientTarget {
  /** The proxy's base URL (`http://127.0.0.1:6001`). */
  proxyUrl: string;
  /** The server name the client shows. */
  name: string;
  /** A named view of the manifest: its own endpoint, `/mcp/<view>`. */
  view?: string | undefined;
  /** The mesh token: `reference` (the default) names it without its value; `value` is printed only on `--show-token`. */
  token?: { value: string; show: boolean } | undefined;
}

/** A server name or view name a client accepts as a key and MM as a path segment. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The endpoint a client connects to: the proxy's `/mcp`, or a view's `/mcp/<view>`. */
export function mcpUrl(target: Pick<ClientTarget, 'proxyUrl' | 'view'>): string {
  return `${target.proxyUrl}/mcp${target.view === undefined ? '' : `/${target.view}`}`;
}

// The Authorization value: the token itself on --show-token, else `reference` (the client's own
// variable syntax), so the token is neither printed nor written into a file that gets committed.
function bearer(target: ClientTarget, reference: string): string | undefined {
  if (target.token === undefined) return undefined;
  return `Bearer ${target.token.show ? target.token.value : reference}`;
}

/** The VS Code input that asks for the token once and keeps it in VS Code's secret storage. */
export const VSCODE_TOKEN_INPUT = 'mesh-token';

/**
 * VS Code (`.vscode/mcp.json` of a workspace, or the user profile's mcp.json): `servers` with
 * `type: "http"`, `url`, `headers`, and a `promptString` input (`password: true`) for the token;
 * without a token also the `code --add-mcp` command.
 * @example vscodeConfig({ proxyUrl: 'http://127.0.0.1:6001', name: 'mesh' }).mcpJson.servers.mesh.url
 */
export function vscodeConfig(target: ClientTarget) {
  const authorization = bearer(target, `\${input:${VSCODE_TOKEN_INPUT}}`);
  const server = { type: 'http' as const, url: mcpUrl(target), ...(authorization === undefined ? {} : { headers: { Authorization: authorization } }) };
  const asks = target.token !== undefined && !target.token.show;
  const inputs = asks ? [{ type: 'promptString' as const, id: VSCODE_TOKEN_INPUT, description: 'MM mesh token (MESH_TOKEN of the mesh-proxy)', password: true }] : [];
  const mcpJson = { ...(asks ? { inputs } : {}), servers: { [target.name]: server } };
  // `code --add-mcp` takes one server and no inputs: offered when nothing needs to be asked.
  const command = asks ? undefined : `code --add-mcp ${shellQuote(JSON.stringify({ name: target.name, ...server }))}`;
  return { url: server.url, mcpJson, command };
}

/**
 * Cursor (`~/.cursor/mcp.json`, or `.cursor/mcp.json` of a project): `mcpServers` with `url` (a
 * remote server) and `headers`, the token read by Cursor from the environment (`${env:MESH_TOKEN}`).
 * @example cursorConfig({ proxyUrl: 'http://127.0.0.1:6001', name: 'mesh' }).mcpJson
 */
export function cursorConfig(target: ClientTarget) {
  const authorization = bearer(target, '${env:MESH_TOKEN}');
  const server = { url: mcpUrl(target), ...(authorization === undefined ? {} : { headers: { Authorization: authorization } }) };
  return { url: server.url, mcpJson: { mcpServers: { [target.name]: server } } };
}

/** The environment variable mcp-remote reads the whole Authorization value from (Claude Desktop on Windows splits args on spaces). */
export const DESKTOP_AUTH_ENV = 'MESH_AUTH_HEADER';

/**
 * Claude Desktop (`claude_desktop_config.json`): its config file starts only stdio servers
 * (`command`, `args`, `env`), and its own remote connectors are added in Settings > Connectors with
 * OAuth, so a Streamable HTTP server with a bearer token goes through `mcp-remote` (fetched by npx
 * on first use), `--header "Authorization:${MESH_AUTH_HEADER}"` with the value in `env`.
 * @example claudeDesktopConfig({ proxyUrl: 'http://127.0.0.1:6001', name: 'mesh' }).mcpJson
 */
export function claudeDesktopConfig(target: ClientTarget) {
  const url = mcpUrl(target);
  const { hostname, protocol } = new URL(url);
  // mcp-remote refuses plain http except to localhost unless told it is a trusted network.
  const allowHttp = protocol === 'http:' && hostname !== 'localhost' && hostname !== '127.0.0.1';
  const authorization = bearer(target, '<the value of MESH_TOKEN>');
  const server = {
    command: 'npx',
    args: ['-y', 'mcp-remote', url, '--transport', 'http-only', ...(allowHttp ? ['--allow-http'] : []), ...(authorization === undefined ? [] : ['--header', `Authorization:\${${DESKTOP_AUTH_ENV}}`])],
    ...(authorization === undefined ? {} : { env: { [DESKTOP_AUTH_ENV]: authorization } }),
  };
  return { url, mcpJson: { mcpServers: { [target.name]: server } }, files: DESKTOP_CONFIG_FILES };
}

/** Where Claude Desktop keeps its config file. */
export const DESKTOP_CONFIG_FILES = {
  macOS: '~/Library/Application Support/Claude/claude_desktop_config.json',
  Windows: '%APPDATA%\\Claude\\claude_desktop_config.json',
};

/** A shell word: quoted only when it needs to be. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
