import { Command } from 'commander';
import { claudeDesktopConfig, cursorConfig, mcpUrl, NAME_PATTERN, shellQuote, vscodeConfig, type ClientTarget } from '../client-config.js';
import { locateProxy, withProxyOptions, type ProxyOptions } from '../common.js';
import { CliError } from '../errors.js';
import { meshInvocation } from '../invocation.js';
import { proxyAnswers } from '../orchestrator/observe.js';
import { jsonText, outputMode, paint, type Output } from '../output.js';
import { ViewsAnswerSchema } from '../../../src/contract/views.js';

interface ClientOptions extends ProxyOptions {
  name?: string;
  view?: string;
  showToken?: boolean;
}

interface ClaudeOptions extends ClientOptions {
  scope?: string;
  view?: string;
}

/**
 * The two ways to put the mesh into Claude Code: a `claude mcp add` command and a `.mcp.json`
 * entry, both pointing at the proxy's MCP endpoint (or a view's), with the bearer token when
 * `withToken`: as `${MESH_TOKEN}`, expanded by the shell (the command, in double quotes) and by
 * Claude Code (.mcp.json), unless `more.token` is given to be printed (`--show-token`). Name and
 * URL come before the options: Claude Code's `--header` takes every following word as another header.
 * @example claudeConfig('http://127.0.0.1:6001', 'mesh', false, undefined)
 */
export function claudeConfig(proxyUrl: string, name: string, withToken: boolean, scope: string | undefined, more: { view?: string | undefined; token?: string | undefined } = {}) {
  const url = mcpUrl({ proxyUrl, view: more.view });
  const authorization = withToken ? `Bearer ${more.token ?? '${MESH_TOKEN}'}` : undefined;
  const header = authorization === undefined ? [] : ['--header', more.token === undefined ? `"Authorization: ${authorization}"` : shellQuote(`Authorization: ${authorization}`)];
  const command = [...['claude', 'mcp', 'add', '--transport', 'http', name, url].map(shellQuote), ...(scope === undefined ? [] : ['--scope', shellQuote(scope)]), ...header].join(' ');
  const headers = authorization === undefined ? undefined : { Authorization: authorization };
  const mcpJson = { mcpServers: { [name]: { type: 'http', url, ...(headers === undefined ? {} : { headers }) } } };
  return { url, command, mcpJson };
}

// Where the proxy is, whether it answers, and the token (MESH_TOKEN) the snippets refer to.
async function prepare(options: ClientOptions): Promise<{ out: Output; target: ClientTarget; from: string; running: boolean }> {
  // A view's server is named after it unless --name says otherwise (mesh-writing beside mesh).
  const name = options.name ?? (options.view === undefined ? 'mesh' : `mesh-${options.view}`);
  if (!NAME_PATTERN.test(name)) throw new CliError(`--name: use letters, digits, "_" or "-" (got ${JSON.stringify(name)})`);
  if (options.view !== undefined && !NAME_PATTERN.test(options.view)) throw new CliError(`--view: use letters, digits, "_" or "-" (got ${JSON.stringify(options.view)})`);
  const out = outputMode(options);
  const { location } = await locateProxy(options);
  const token = process.env.MESH_TOKEN ?? '';
  const target: ClientTarget = { proxyUrl: location.url, name, view: options.view, token: token === '' ? undefined : { value: token, show: options.showToken === true } };
  const running = await proxyAnswers(location.url);
  if (running && options.view !== undefined) await checkView(location.url, options.view);
  return { out, target, from: location.from, running };
}

function indented(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^/gm, '  ');
}

function noteNotRunning(url: string, running: boolean): void {
  if (!running) process.stderr.write(`mesh: note: no mesh-proxy answers at ${url} yet; start one with \`${meshInvocation()} up FILE\`\n`);
}

// The options every client's command shares; `server` is what the client's list shows.
function clientCommand(name: string, summary: string, examples: string): Command {
  const command = new Command(name)
    .description(summary)
    .option('--name <name>', 'the server name the client shows (default mesh, or mesh-VIEW with --view)')
    .option('--view <view>', 'a named view of the manifest instead of every tool (its endpoint is /mcp/VIEW)')
    .option('--show-token', 'print the token (MESH_TOKEN) itself instead of a reference the client resolves');
  return withProxyOptions(command).addHelpText(
    'after',
    `
With MESH_TOKEN set (a proxy with --token), the snippet carries the Authorization header without
the token itself: the client reads it from its environment or asks for it (see each client's
note); --show-token prints it in clear instead.

Examples:
${examples}`,
  );
}

function claudeCommand(): Command {
  return clientCommand(
    'claude',
    'Print the `claude mcp add` command and the .mcp.json snippet that put the mesh into Claude Code',
    '  mesh config claude\n  mesh config claude -f configs/demo.yaml --scope project\n  mesh config claude --json | jq .mcpJson > .mcp.json\n',
  )
    .option('--scope <scope>', 'scope for `claude mcp add`: local, project (writes .mcp.json) or user')
    .action(async (options: ClaudeOptions) => {
      const { out, target, from, running } = await prepare(options);
      const shown = target.token?.show ? target.token.value : undefined;
      const config = claudeConfig(target.proxyUrl, target.name, target.token !== undefined, options.scope, { view: target.view, token: shown });
      if (out.json) {
        process.stdout.write(jsonText({ ...config, proxy: target.proxyUrl, proxyFrom: from, proxyRunning: running }));
        return;
      }
      const tokenNote = target.token !== undefined && !target.token.show ? 'Both read the token from MESH_TOKEN: have it set in the shell that runs `claude` (and that starts Claude Code).\n' : '';
      process.stdout.write(`${paint(out, 'bold', 'Claude Code, from a terminal:')}
  ${config.command}

${paint(out, 'bold', 'Or in .mcp.json at the project root (shared with the team):')}
${indented(config.mcpJson)}

The mesh's tools then appear in Claude Code as mcp__${target.name}__<service>__<tool>, next to
list_services and call_service. The URL came from ${from}.
${tokenNote}`);
      noteNotRunning(target.proxyUrl, running);
    });
}

function claudeDesktopCommand(): Command {
  return clientCommand(
    'claude-desktop',
    'Print the claude_desktop_config.json entry that puts the mesh into Claude Desktop (through mcp-remote)',
    '  mesh config claude-desktop\n  mesh config claude-desktop --json | jq .mcpJson\n',
  ).action(async (options: ClientOptions) => {
    const { out, target, from, running } = await prepare(options);
    const config = claudeDesktopConfig(target);
    if (out.json) {
      process.stdout.write(jsonText({ ...config, proxy: target.proxyUrl, proxyFrom: from, proxyRunning: running }));
      return;
    }
    const tokenNote =
      target.token !== undefined && !target.token.show
        ? 'Claude Desktop passes only the env of the entry to the server: replace the placeholder in env with the token (or run with --show-token).\n'
        : '';
    process.stdout.write(`${paint(out, 'bold', `Claude Desktop: add this to mcpServers in ${config.files.macOS} (Windows: ${config.files.Windows}), then restart Claude Desktop:`)}
${indented(config.mcpJson)}

Claude Desktop starts only stdio servers from this file; mcp-remote (fetched by npx on first use,
so once online) bridges it to the mesh's Streamable HTTP endpoint. The URL came from ${from}.
${tokenNote}`);
    noteNotRunning(target.proxyUrl, running);
  });
}

function cursorCommand(): Command {
  return clientCommand('cursor', 'Print the mcp.json entry that puts the mesh into Cursor', '  mesh config cursor\n  mesh config cursor --json | jq .mcpJson > .cursor/mcp.json\n').action(
    async (options: ClientOptions) => {
      const { out, target, from, running } = await prepare(options);
      const config = cursorConfig(target);
      if (out.json) {
        process.stdout.write(jsonText({ ...config, proxy: target.proxyUrl, proxyFrom: from, proxyRunning: running }));
        return;
      }
      const tokenNote = target.token !== undefined && !target.token.show ? 'Cursor reads the token from MESH_TOKEN (${env:MESH_TOKEN}): have it set where Cursor starts.\n' : '';
      process.stdout.write(`${paint(out, 'bold', 'Cursor: in ~/.cursor/mcp.json (every project) or .cursor/mcp.json (this project):')}
${indented(config.mcpJson)}

The URL came from ${from}.
${tokenNote}`);
      noteNotRunning(target.proxyUrl, running);
    },
  );
}

function vscodeCommand(): Command {
  return clientCommand(
    'vscode',
    'Print the .vscode/mcp.json entry (and `code --add-mcp` command) that put the mesh into VS Code',
    '  mesh config vscode\n  mesh config vscode --json | jq .mcpJson > .vscode/mcp.json\n',
  ).action(async (options: ClientOptions) => {
    const { out, target, from, running } = await prepare(options);
    const config = vscodeConfig(target);
    if (out.json) {
      process.stdout.write(jsonText({ ...config, proxy: target.proxyUrl, proxyFrom: from, proxyRunning: running }));
      return;
    }
    const command = config.command === undefined ? '' : `${paint(out, 'bold', 'VS Code, from a terminal (user profile):')}\n  ${config.command}\n\n`;
    const tokenNote = target.token !== undefined && !target.token.show ? 'VS Code asks for the token once (the mesh-token input) and keeps it in its secret storage.\n' : '';
    process.stdout.write(`${command}${paint(out, 'bold', 'Or in .vscode/mcp.json of the workspace:')}
${indented(config.mcpJson)}

The URL came from ${from}.
${tokenNote}`);
    noteNotRunning(target.proxyUrl, running);
  });
}

// A view the running proxy does not serve is refused, naming those it does.
async function checkView(proxyUrl: string, view: string): Promise<void> {
  const headers: Record<string, string> = process.env.MESH_TOKEN ? { authorization: `Bearer ${process.env.MESH_TOKEN}` } : {};
  const answer = await fetch(`${proxyUrl}/v1/views`, { headers }).catch(() => undefined);
  if (!answer?.ok) return;
  const parsed = ViewsAnswerSchema.safeParse(await answer.json());
  if (!parsed.success) return;
  const known = parsed.data.views.map((v) => v.name);
  if (!known.includes(view)) throw new CliError(`--view ${view}: the mesh-proxy at ${proxyUrl} serves no view "${view}"; its views: ${known.join(', ')}`);
}

/** `mesh config CLIENT`: how to connect an MCP client to the mesh. */
export function configCommand(): Command {
  return new Command('config')
    .summary('how to connect an MCP client (claude, claude-desktop, cursor, vscode)')
    .description("How to connect an MCP client to the mesh: Claude Code (claude), Claude Desktop, Cursor or VS Code, in the client's own format")
    .addCommand(claudeCommand())
    .addCommand(claudeDesktopCommand())
    .addCommand(cursorCommand())
    .addCommand(vscodeCommand())
    .addHelpText('after', '\nExamples:\n  mesh config claude\n  mesh config vscode --view writing\n  mesh config cursor --json\n');
}
