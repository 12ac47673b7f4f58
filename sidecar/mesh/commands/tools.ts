import { Command } from 'commander';
import type { Tool } from '../../../src/client/index.js';
import { withClient, withProxyOptions, type ProxyOptions } from '../common.js';
import { jsonText, outputMode, paint, type Output } from '../output.js';

interface PropertySchema {
  type?: unknown;
  description?: unknown;
  enum?: unknown;
  default?: unknown;
}

/** One line per parameter: `path (string, required)  file under root`. */
function parameterLines(tool: Pick<Tool, 'inputSchema'>): string[] {
  const properties = (tool.inputSchema.properties ?? {}) as Record<string, PropertySchema>;
  const required = new Set(tool.inputSchema.required ?? []);
  return Object.entries(properties).map(([name, schema]) => {
    const type = Array.isArray(schema.type) ? schema.type.join('|') : typeof schema.type === 'string' ? schema.type : 'any';
    const facts = [type, required.has(name) ? 'required' : 'optional'];
    if (Array.isArray(schema.enum)) facts.push(`one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    if (schema.default !== undefined) facts.push(`default ${JSON.stringify(schema.default)}`);
    const description = typeof schema.description === 'string' ? `  ${schema.description}` : '';
    return `${name} (${facts.join(', ')})${description}`;
  });
}

function describeTool(tool: Tool, out: Output): string {
  const description = tool.description ? `\n    ${tool.description.trim().replace(/\n\s*/g, '\n    ')}` : '';
  const params = parameterLines(tool);
  const paramText = params.length === 0 ? `\n    ${paint(out, 'dim', '(no parameters)')}` : params.map((line) => `\n    - ${line}`).join('');
  return `${paint(out, 'bold', tool.name)}${description}${paramText}`;
}

/** `mesh tools SERVICE`: a service's tools with descriptions and parameters. */
export function toolsCommand(): Command {
  const command = new Command('tools')
    .summary("a service's tools with descriptions and parameters")
    .description("Show a service's tools: names, descriptions, parameters")
    .argument('<service>', 'service name')
    .addHelpText('after', '\nExamples:\n  mesh tools fs\n  mesh tools fs --json\n');
  return withProxyOptions(command).action(async (service: string, options: ProxyOptions) => {
    const out = outputMode(options);
    await withClient(options, async (mesh) => {
      const tools = await mesh.tools(service);
      if (out.json) process.stdout.write(jsonText({ service, tools }));
      else process.stdout.write(tools.length === 0 ? `${service} has no tools\n` : `${tools.map((tool) => describeTool(tool, out)).join('\n\n')}\n`);
    });
  });
}
