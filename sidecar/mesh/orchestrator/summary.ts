import { meshInvocation } from '../invocation.js';
import { paint, type Output } from '../output.js';
import type { RunState } from '../run-state.js';

/** The part of a listed tool the example call needs. */
export interface ToolLike {
  name: string;
  inputSchema?: { properties?: Record<string, { type?: unknown }>; required?: string[] };
}

// A required argument a pasted call can run with: a quoted placeholder for text (`<` and `>`
// unquoted are shell redirections), a sample value for the other types.
function sampleArg(key: string, type: unknown): string {
  const samples: Record<string, string> = { integer: `${key}=1`, number: `${key}=1`, boolean: `${key}=true`, array: `${key}:='[]'`, object: `${key}:='{}'` };
  return samples[String(type)] ?? `'${key}=<${String(type ?? 'value')}>'`;
}

// A call a newcomer can paste and run: a tool of a healthy service, its required arguments as samples.
/** `mesh call fs list_files`-style example for the first healthy service, or undefined. */
export function exampleCall(service: string, tools: readonly ToolLike[], proxyArgs: string, mesh = meshInvocation()): string | undefined {
  const tool = tools.find((t) => (t.inputSchema?.required ?? []).length === 0) ?? tools[0];
  if (tool === undefined) return undefined;
  const required = tool.inputSchema?.required ?? [];
  const args = required.map((key) => sampleArg(key, tool.inputSchema?.properties?.[key]?.type));
  return [`${mesh} call`, proxyArgs, service, tool.name, ...args].filter((part) => part !== '').join(' ');
}

export interface SummaryFacts {
  state: RunState;
  /** How the user named the manifest, for the `mesh down FILE` hint. */
  manifestArg: string;
  /** `-f FILE` when the default lookup would not find this proxy, else ''. */
  proxyArgs: string;
  detached: boolean;
  example: string | undefined;
  /** How to type the CLI in the hints (`mesh` or `npx mesh`); default: what works here. */
  mesh?: string;
}

/** Counts of healthy and failed services, and the names of the failed ones. */
export function tally(state: RunState): { total: number; healthy: number; failed: string[] } {
  const entries = Object.entries(state.services);
  const failed = entries.filter(([, s]) => s.status !== 'healthy').map(([name]) => name);
  return { total: entries.length, healthy: entries.length - failed.length, failed };
}

/** The text printed once every service is healthy or failed: the outcome and how to connect. */
export function summaryText(facts: SummaryFacts, out: Pick<Output, 'color'> & { tty?: boolean }): string {
  const { state } = facts;
  const mesh = facts.mesh ?? meshInvocation();
  const { total, healthy, failed } = tally(state);
  const lines: string[] = [];
  const outcome = `${healthy} of ${total} service${total === 1 ? '' : 's'} healthy`;
  if (failed.length === 0) lines.push(paint(out, 'green', `${outcome}.`));
  else lines.push(paint(out, 'red', `${outcome}; not healthy: ${failed.join(', ')} (see \`${mesh} logs ${failed[0]}\`).`));
  // The live lines cut reasons to the terminal's width; here they are whole.
  if (out.tty === true) for (const name of failed) lines.push(`  ${name}: ${state.services[name]?.reason ?? state.services[name]?.status ?? ''}`);
  const hint = facts.proxyArgs === '' ? '' : ` ${facts.proxyArgs}`;
  const rows: [string, string][] = [
    ['MCP endpoint for clients', `${state.proxy.url}/mcp`],
    ['Claude Code', `${mesh} config claude${hint}   (the \`claude mcp add\` command and the .mcp.json snippet)`],
    ['Services', `${mesh} ls${hint}`],
  ];
  if (facts.example !== undefined) rows.push(['A call', facts.example]);
  rows.push(['Stop', facts.detached ? `${mesh} down ${facts.manifestArg}` : `Ctrl-C (or \`${mesh} down ${facts.manifestArg}\` from another terminal)`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  lines.push('', ...rows.map(([label, value]) => `  ${paint(out, 'dim', `${label}:`.padEnd(width + 1))}  ${value}`));
  return `${lines.join('\n')}\n`;
}
