// `npm start`: a real demo mesh, offline — a mesh-proxy and three unmodified stdio servers behind
// sidecars (the Python fs example, server-everything, server-memory). Ctrl-C stops everything.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { groupAlive, signalGroup, waitUntil } from '../src/stdio/process-group.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const proxyPort = Number(process.env.MESH_PORT ?? 6001);
const proxyUrl = `http://127.0.0.1:${proxyPort}`;
const services: { name: string; command: string[] }[] = [
  { name: 'fs', command: ['python3', join(root, 'examples/fs_server.py'), '--root', join(root, 'examples/texts')] },
  { name: 'everything', command: ['node', join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'] },
  { name: 'memory', command: ['node', join(root, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')] },
];

const children: ResultPromise[] = [];
function start(script: string, args: string[]): ResultPromise {
  const child = execa('node', [join(root, 'dist', script), ...args], { detached: true, stdout: 'inherit', stderr: 'inherit', stdin: 'ignore', reject: false });
  children.push(child);
  return child;
}

async function answers(url: string, accept: (body: any) => boolean): Promise<boolean> {
  try {
    const response = await fetch(url);
    return response.ok && accept(await response.json());
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopAll(): Promise<void> {
  for (const child of children.reverse()) if (child.pid && child.exitCode === null) child.kill('SIGTERM');
  for (const child of children) if (child.pid) await waitUntil(() => !groupAlive(child.pid as number), 8_000);
  for (const child of children) if (child.pid) signalGroup(child.pid, 'SIGKILL');
}

process.on('SIGINT', () => void stopAll().then(() => process.exit(0)));
process.on('SIGTERM', () => void stopAll().then(() => process.exit(0)));

try {
  if (await answers(`${proxyUrl}/healthz`, () => true)) {
    console.log(`mesh demo: using the mesh-proxy already running at ${proxyUrl}`);
  } else {
    start('proxy/cli.js', ['--port', String(proxyPort)]);
    await until('the mesh-proxy', () => answers(`${proxyUrl}/healthz`, () => true));
  }
  for (const service of services) start('sidecar/cli.js', ['--name', service.name, '--proxy', proxyUrl, '--', ...service.command]);
  await until('the services to register', () =>
    answers(`${proxyUrl}/v1/services?status=healthy`, (body) => services.every((s) => body.services.some((x: { name: string }) => x.name === s.name))),
  );
  console.log(`
MM demo mesh is up: ${services.map((s) => s.name).join(', ')} behind sidecars, one proxy.

  MCP endpoint (every tool, namespaced service__tool):  ${proxyUrl}/mcp
  Claude Code:       claude mcp add --transport http mesh ${proxyUrl}/mcp
  MCP Inspector:     npx @modelcontextprotocol/inspector --cli ${proxyUrl}/mcp --method tools/list
  Services:          curl -s ${proxyUrl}/v1/services
  A routed call:     curl -s -X POST ${proxyUrl}/v1/services/fs/tools/analyze_narrative_structure/call -d '{"arguments":{"path":"chapter1.txt"}}'
  Metrics:           curl -s ${proxyUrl}/metrics

Ctrl-C stops the mesh.`);
} catch (error) {
  console.error(`mesh demo: ${(error as Error).message}`);
  await stopAll();
  process.exit(1);
}
