import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { MeshError } from '../../../src/errors.js';
import { importMcpConfig, type SkippedServer } from '../../../src/manifest/index.js';
import { CliError, EXIT } from '../errors.js';
import { meshInvocation } from '../invocation.js';
import { jsonText, outputMode } from '../output.js';

interface ImportOptions {
  output?: string;
  force?: boolean;
  json?: boolean;
}

// dist/sidecar/mesh/commands/import.js → configs/mesh.schema.json of the package.
const schemaFile = fileURLToPath(new URL('../../../../configs/mesh.schema.json', import.meta.url));

// The `$schema` comment points at this package's schema, relative to where the YAML lands.
function schemaFor(outputFile: string | undefined): string {
  const from = outputFile === undefined ? process.cwd() : dirname(resolve(outputFile));
  const path = relative(from, schemaFile);
  return path.startsWith('.') ? path : `./${path}`;
}

/** `mesh import FILE`: an MCP client config's stdio servers as manifest services. */
export function importCommand(): Command {
  return new Command('import')
    .summary('.mcp.json / Claude Desktop config → manifest services')
    .description('Turn the stdio mcpServers of a .mcp.json (Claude Code) or claude_desktop_config.json (Claude Desktop) into a manifest')
    .argument('<file>', 'the MCP client config (JSON with an "mcpServers" map)')
    .option('-o, --output <file>', 'write the manifest to this file instead of printing it')
    .option('--force', 'overwrite the --output file if it exists')
    .option('--json', 'print JSON (services, skipped, renamed) instead of YAML')
    .addHelpText(
      'after',
      `
Each service runs in the folder of FILE (its cwd), as the client ran it, so relative paths in
args keep working wherever the manifest is saved. Remote entries (type http/sse, or a url) are
not imported yet and are named on stderr; an entry the mesh cannot run (no command, a bad env
name...) is named with its problem, and the others are still imported.
Names are made to fit service names (lowercase, a-z 0-9 - _); renames are noted in the YAML.

Examples:
  mesh import .mcp.json
  mesh import ~/.config/Claude/claude_desktop_config.json -o configs/mesh.yaml
  mesh validate configs/mesh.yaml && mesh up configs/mesh.yaml
`,
    )
    .action(async (file: string, options: ImportOptions) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (cause) {
        throw new CliError(`${file}: cannot read it (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, EXIT.failed);
      }
      let result: ReturnType<typeof importMcpConfig>;
      try {
        result = importMcpConfig(text, file, options.output === undefined ? {} : { outputDir: dirname(resolve(options.output)) });
      } catch (error) {
        if (error instanceof MeshError && error.code === 'MANIFEST_INVALID') throw new CliError(error.message, EXIT.failed);
        throw error;
      }
      const out = outputMode(options);
      const count = Object.keys(result.services).length;
      if (count === 0) throw new CliError(`${file}: no stdio or Streamable HTTP servers to import\n${notImported(result.skipped)}`, EXIT.failed);
      if (out.json) {
        process.stdout.write(jsonText({ source: file, services: result.services, skipped: result.skipped, renamed: result.renamed }));
      } else if (options.output === undefined) {
        process.stdout.write(result.toYaml({ schema: schemaFor(undefined) }));
      }
      if (options.output !== undefined) {
        if (existsSync(options.output) && options.force !== true) throw new CliError(`${options.output} exists; add --force to overwrite it`, EXIT.failed);
        await writeFile(options.output, result.toYaml({ schema: schemaFor(options.output) }));
        process.stderr.write(`mesh: wrote ${count} service${count === 1 ? '' : 's'} to ${options.output}. Next: ${meshInvocation()} validate ${options.output}\n`);
      }
      if (result.skipped.length > 0) process.stderr.write(`${notImported(result.skipped)}\n`);
    });
}

// One line per entry left out, by name: remote ones (SSE) say what they are, broken ones say why.
function notImported(skipped: readonly SkippedServer[]): string {
  return skipped.map((s) => (s.kind === 'remote' ? `mesh: ${s.name}: ${s.reason}` : `mesh: ${s.name}: not imported: ${s.reason}`)).join('\n');
}
