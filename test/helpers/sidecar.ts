import type { Test } from 'tap';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { freePort, pollJson, spawnNode, type Spawned } from './processes.js';

export interface RunningSidecar extends Spawned {
  port: number;
  url: string;
  base: string;
  health(): Promise<any>;
}

export interface SidecarSpec {
  name?: string;
  command: string[];
  extra?: string[];
  /** mesh-proxy URL to register with (default: standalone). */
  proxy?: string;
  /** Port to serve on (default: a free one); a restarted sidecar keeps its instance id on the same port. */
  port?: number;
  /** The mesh token (--token): the sidecar then wants it on every request, /healthz too. */
  token?: string;
  /** Health state to wait for before returning (default "ready"). */
  waitFor?: string | ((health: any) => boolean);
}

/** Starts a real mesh-sidecar on a free port, waits for /healthz, and tears it down after the test. */
export async function startSidecar(t: Test, spec: SidecarSpec): Promise<RunningSidecar> {
  const port = spec.port ?? (await freePort());
  const name = spec.name ?? 'svc';
  const proxy = spec.proxy ? ['--proxy', spec.proxy] : ['--no-proxy'];
  const token = spec.token === undefined ? [] : ['--token', spec.token];
  const headers: Record<string, string> = spec.token === undefined ? {} : { authorization: `Bearer ${spec.token}` };
  const spawned = spawnNode('sidecar/cli.js', ['--name', name, '--port', String(port), ...proxy, ...token, ...(spec.extra ?? []), '--', ...spec.command]);
  t.teardown(() => spawned.stop());
  const base = `http://127.0.0.1:${port}`;
  const wanted = spec.waitFor ?? 'ready';
  const accept = typeof wanted === 'function' ? (_: number, body: any) => wanted(body) : (_: number, body: any) => body.state === wanted;
  try {
    await pollJson(`${base}/healthz`, accept, 20_000, headers);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nsidecar stderr:\n${spawned.stderr()}`, { cause: error });
  }
  return { ...spawned, port, url: `${base}/mcp`, base, health: () => fetch(`${base}/healthz`, { headers }).then((r) => r.json()) };
}

/** An MCP SDK client connected over Streamable HTTP, closed after the test. */
export async function connectClient(t: Test, url: string, options: ConstructorParameters<typeof Client>[1] = {}, name = 'test-client'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, options);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.teardown(() => client.close());
  return client;
}
