import { Command } from 'commander';
import { text, ToolError, type CallToolResult } from '../../../src/client/index.js';
import { positiveArg } from '../../../src/cli-args.js';
import { parseCallArgs } from '../call-args.js';
import { withClient, withProxyOptions, type ProxyOptions } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { jsonText } from '../output.js';

interface CallOptions extends ProxyOptions {
  args?: string;
  timeout?: number;
}

// Text parts as they are; other parts (images, resources) as JSON so nothing is silently lost.
function renderResult(result: CallToolResult): string {
  const parts = result.content.map((part) => (part.type === 'text' ? part.text : JSON.stringify(part)));
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent, null, 2);
  return parts.join('\n');
}

/** `mesh call SERVICE TOOL k=v...`: calls a tool through the proxy and prints its result. */
export function callCommand(): Command {
  const command = new Command('call')
    .summary("call a tool: KEY=VALUE... or --json '{...}'; exit 1 on a tool error")
    .description('Call a tool of a service through the proxy and print its result (exit 1 when the tool reports an error)')
    .argument('<service>', 'service name')
    .argument('<tool>', 'tool name')
    .argument('[args...]', "arguments: KEY=VALUE (typed by the tool's schema) or KEY:=JSON")
    .option('--args <json>', 'all arguments as one JSON object (KEY=VALUE pairs override its keys)')
    .option('--timeout <seconds>', 'deadline of the call', positiveArg)
    .addHelpText(
      'after',
      `
The result's text is printed; a bare --json prints the whole MCP result as JSON instead.
--json '{...}' (a JSON object) is taken as the arguments, like --args.

Examples:
  mesh call fs read_text path=chapter1.txt
  mesh call fs search_text --json '{"query": "ledger"}'
  mesh call everything add a=2 b=3 --json
`,
    );
  withProxyOptions(command, false);
  command.option('--json [arguments]', 'print the whole result as JSON; with a value, that JSON object is the arguments');
  return command.action(async (service: string, tool: string, given: string[], options: Omit<CallOptions, 'json'> & { json?: string | boolean }) => {
    const { json, ...proxyOptions } = options;
    let pairs = given;
    let argsJson = options.args;
    let printJson = json === true;
    if (typeof json === 'string') {
      // `--json '{...}'` carries the arguments; anything else after a bare --json is a KEY=VALUE pair.
      if (json.trim().startsWith('{')) {
        if (argsJson !== undefined) throw new CliError("give the arguments object once: --json '{...}' or --args '{...}'");
        argsJson = json;
      } else {
        printJson = true;
        pairs = [json, ...pairs];
      }
    }
    // Malformed pairs are usage errors before any request is made.
    parseCallArgs(pairs, argsJson);
    await withClient(proxyOptions, async (mesh) => {
      const needsSchema = pairs.some((pair) => !pair.includes(':='));
      const schema = needsSchema ? (await mesh.tools(service)).find((t) => t.name === tool)?.inputSchema : undefined;
      const args = parseCallArgs(pairs, argsJson, schema as Parameters<typeof parseCallArgs>[2]);
      try {
        const result = await mesh.call(service, tool, args, options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 });
        process.stdout.write(printJson ? jsonText(result) : `${renderResult(result)}\n`);
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        if (printJson) process.stdout.write(jsonText(error.result));
        process.stderr.write(`mesh: ${service}.${tool} reported an error: ${text(error.result) || '(no text)'}\n`);
        process.exitCode = EXIT.failed;
      }
    });
  });
}
