/**
 * The `views` suite (issue 13): how much a client is handed by `tools/list` on `/mcp`, on the
 * discovery view and on each named view of configs/factory.yaml. Its eleven projects are not on
 * this machine, so each service is registered (metadata only, with the manifest's name and tags)
 * with the tool list of examples/fs_server.py as a stand-in. Sizes are the bytes of the `tools`
 * array as JSON (what a client puts before its model) and of the whole answer; tokens are
 * estimated as bytes / 4 (an estimate, not a tokenizer's count).
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import type { Tool } from '@modelcontextprotocol/server';
import { silentLogger } from '../../src/log.js';
import { loadManifest } from '../../src/manifest/load.js';
import { ChildProcessTransport } from '../../src/stdio/child-transport.js';
import { toolsHash } from '../../src/instance/tools-hash.js';
import { startProxy } from '../../proxy/proxy.js';
import { root } from './paths.js';

export interface ViewSize {
  endpoint: string;
  tools: number;
  /** Bytes of the `tools` array as JSON. */
  toolsBytes: number;
  /** Bytes of the whole tools/list answer body. */
  answerBytes: number;
  /** toolsBytes / 4, rounded: an estimate. */
  tokensEstimate: number;
}

export interface ViewsResult {
  manifest: string;
  services: number;
  /** Tools of the stand-in server each service was registered with. */
  toolsPerService: number;
  tokenEstimate: 'bytes / 4';
  sizes: ViewSize[];
}

// The stand-in's tools, as it lists them itself.
async function standInTools(): Promise<Tool[]> {
  const client = new Client({ name: 'mm-bench', version: '1.0.0' });
  await client.connect(new ChildProcessTransport({ command: 'python3', args: [join(root, 'examples/fs_server.py'), '--root', join(root, 'examples/texts')] }));
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}

// One 2026-07-28 tools/list, as a modern client sends it (no session).
async function toolsList(url: string): Promise<{ tools: unknown[]; answerBytes: number }> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'mm-bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }),
  });
  const text = await response.text();
  const body = JSON.parse(text) as { result?: { tools: unknown[] }; error?: { message: string } };
  if (!body.result) throw new Error(`tools/list at ${url} failed: ${body.error?.message ?? text.slice(0, 200)}`);
  return { tools: body.result.tools, answerBytes: Buffer.byteLength(text) };
}

/** Registers factory.yaml's services with stand-in tools on an in-process proxy serving its views, and measures every endpoint's tools/list. */
export async function runViewsSuite(log: (line: string) => void): Promise<ViewsResult> {
  const file = join(root, 'configs/factory.yaml');
  const manifest = await loadManifest(file, { ...process.env, PROJECTS: '/nonexistent' });
  const tools = await standInTools();
  const proxy = await startProxy({ host: '127.0.0.1', port: 0, heartbeatTimeoutMs: 600_000, version: 'bench', log: silentLogger, views: manifest.views });
  try {
    for (const [name, service] of Object.entries(manifest.services)) {
      proxy.core.registry.register({
        id: `${name}.bench`,
        name,
        url: `http://127.0.0.1:9/${name}/mcp`,
        host: '127.0.0.1',
        port: 9,
        tags: service.tags,
        tools,
        toolsHash: toolsHash(tools),
        version: '1',
        kind: 'sidecar',
      });
    }
    const endpoints = ['/mcp', '/mcp/discovery', ...Object.keys(manifest.views).map((view) => `/mcp/${view}`)];
    const sizes: ViewSize[] = [];
    for (const endpoint of endpoints) {
      const answer = await toolsList(`${proxy.url}${endpoint}`);
      const toolsBytes = Buffer.byteLength(JSON.stringify(answer.tools));
      sizes.push({ endpoint, tools: answer.tools.length, toolsBytes, answerBytes: answer.answerBytes, tokensEstimate: Math.round(toolsBytes / 4) });
      log(`  ${endpoint}: ${answer.tools.length} tools, ${toolsBytes} bytes`);
    }
    return { manifest: 'configs/factory.yaml', services: Object.keys(manifest.services).length, toolsPerService: tools.length, tokenEstimate: 'bytes / 4', sizes };
  } finally {
    await proxy.stop();
  }
}

/** The suite's table: one row per endpoint. */
export function formatViewsTable(result: ViewsResult): string {
  const full = result.sizes[0]?.toolsBytes ?? 1;
  const lines = [
    `tools/list per endpoint: ${result.manifest}, ${result.services} services x ${result.toolsPerService} stand-in tools (examples/fs_server.py); tokens ~ bytes/4 (estimate)`,
    `  ${'endpoint'.padEnd(20)} ${'tools'.padStart(5)} ${'bytes'.padStart(8)} ${'~tokens'.padStart(8)} ${'of /mcp'.padStart(8)}`,
  ];
  for (const size of result.sizes) {
    const share = `${((100 * size.toolsBytes) / full).toFixed(1)}%`;
    lines.push(`  ${size.endpoint.padEnd(20)} ${String(size.tools).padStart(5)} ${String(size.toolsBytes).padStart(8)} ${String(size.tokensEstimate).padStart(8)} ${share.padStart(8)}`);
  }
  return lines.join('\n');
}
