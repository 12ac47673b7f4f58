import { Command } from 'commander';
import { locateProxy, withProxyOptions, type ProxyOptions } from '../common.js';
import { CliError } from '../errors.js';
import { meshInvocation } from '../invocation.js';
import { proxyAnswers } from '../orchestrator/observe.js';
import { jsonText, outputMode, paint } from '../output.js';
import { ViewsAnswerSchema } from '../../../src/contract/views.js';

interface ClaudeOptions extends ProxyOptions {
  name: string;
  scope?: string;
  view?: string;
}

// A shell word: quoted only when it needs to be.
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

// The header both forms carry: `${MESH_TOKEN}` is expanded by the shell (the command, in double
// quotes) and by Claude Code (.mcp.json headers), so the token itself is never printed or committed.
const AUTH_HEADER = 'Authorization: Bearer ${MESH_TOKEN}';

/**
 * The two ways to put the mesh into Claude Code: a `claude mcp add` command and a `.mcp.json`
 * entry, both pointing at the proxy's MCP endpoint (with the bearer token, read from MESH_TOKEN,
 * when `withToken`). Name and URL come before the options: Claude Code's `--header` takes every
 * following word as another header.
 * `view`: a named view's endpoint (`/mcp/<view>`) instead of the whole mesh's.
 * @example claudeConfig('http://127.0.0.1:6001', 'mesh', false, undefined, 'writing')
 */
export function claudeConfig(proxyUrl: string, name: string, withToken: boolean, scope: string | undefined, view?: string) {
  const url = view === undefined ? `${proxyUrl}/mcp` : `${proxyUrl}/mcp/${view}`;
  const command = [
    ...['claude', 'mcp', 'add', '--transport', 'http', name, url].map(shellWord),
    ...(scope === undefined ? [] : ['--scope', shellWord(scope)]),
    ...(withToken ? ['--header', `"${AUTH_HEADER}"`] : []),
  ].join(' ');
  const headers = withToken ? { Authorization: 'Bearer ${MESH_TOKEN}' } : undefined;
  const mcpJson = { mcpServers: { [name]: { type: 'http', url, ...(headers === undefined ? {} : { headers }) } } };
  return { url, command, mcpJson };
}

function claudeCommand(): Command {
  const command = new Command('claude')
    .description('Print the `claude mcp add` command and the .mcp.json snippet that put the mesh into Claude Code')
    .option('--name <name>', 'the server name Claude Code shows (its tools appear as mcp__NAME__service__tool)', 'mesh')
    .option('--scope <scope>', 'scope for `claude mcp add`: local, project (writes .mcp.json) or user')
    .option('--view <view>', "a named view of the manifest (its endpoint /mcp/<view> shows only the view's services), or discovery; --name defaults to mesh-<view>");
  withProxyOptions(command).addHelpText(
    'after',
    `
With MESH_TOKEN set (a proxy bound beyond loopback), both carry the Authorization header as
\${MESH_TOKEN}, read from the environment (by the shell for the command, by Claude Code for
.mcp.json), so the token is neither printed nor written into a file you commit.

Examples:
  mesh config claude
  mesh config claude -f configs/demo.yaml --scope project
  mesh config claude --view writing
  mesh config claude --json | jq .mcpJson > .mcp.json
`,
  );
  return command.action(async (options: ClaudeOptions) => {
    const view = options.view;
    if (view !== undefined && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(view)) throw new CliError(`--view: a view name is lowercase letters, digits, "_" or "-" (got ${JSON.stringify(view)})`);
    const name = view !== undefined && command.getOptionValueSource('name') === 'default' ? `mesh-${view}` : options.name;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new CliError(`--name: use letters, digits, "_" or "-" (got ${JSON.stringify(name)})`);
    const out = outputMode(options);
    const { location } = await locateProxy(options);
    const withToken = (process.env.MESH_TOKEN ?? '') !== '';
    const config = claudeConfig(location.url, name, withToken, options.scope, view);
    const running = await proxyAnswers(location.url);
    if (running && view !== undefined) await checkView(location.url, view);
    if (out.json) {
      process.stdout.write(jsonText({ ...config, proxy: location.url, proxyFrom: location.from, proxyRunning: running }));
      return;
    }
    process.stdout.write(`${paint(out, 'bold', 'Claude Code, from a terminal:')}
  ${config.command}

${paint(out, 'bold', 'Or in .mcp.json at the project root (shared with the team):')}
${JSON.stringify(config.mcpJson, null, 2).replace(/^/gm, '  ')}

${
  view === undefined
    ? `The mesh's tools then appear in Claude Code as mcp__${name}__<service>__<tool>, next to
list_services and call_service.`
    : `Claude Code then sees only the tools of view "${view}", as mcp__${name}__<service>__<tool>.`
} The URL came from ${location.from}.
${withToken ? 'Both read the token from MESH_TOKEN: have it set in the shell that runs `claude` (and that starts Claude Code).\n' : ''}`);
    if (!running) process.stderr.write(`mesh: note: no mesh-proxy answers at ${location.url} yet; start one with \`${meshInvocation()} up FILE\`\n`);
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
    .summary('how to connect an MCP client (claude: Claude Code)')
    .description('How to connect an MCP client to the mesh (claude: Claude Code)')
    .addCommand(claudeCommand())
    .addHelpText('after', '\nExamples:\n  mesh config claude\n');
}
