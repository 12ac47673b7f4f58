import type { Test } from 'tap';
import { readCa } from '../../src/http/tls-trust.js';
import { trustedFetch } from '../../src/http/trusted-fetch.js';
import { fixture, freePort, spawnNode, waitFor, type Spawned } from './processes.js';
import { tempDir } from './proxy.js';

// Real processes of a mesh over HTTPS (or plain HTTP) on loopback: a proxy and sidecars with the
// flags of issue 12, probed with a fetch that trusts the test's CA.

export interface Started extends Spawned {
  base: string;
  port: number;
}

/** GET `url` as JSON with the CA trusted (undefined when it does not answer). */
export async function getJson(url: string, caFile?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any } | undefined> {
  try {
    const response = await trustedFetch(readCa(caFile))(url, { headers });
    return { status: response.status, body: await response.json() };
  } catch {
    return undefined;
  }
}

/** A mesh-proxy with `flags` (e.g. --tls-cert/--tls-key/--ca), torn down after the test; waits for /healthz. */
export async function proxyWith(t: Test, flags: string[], { caFile, port, auth }: { caFile?: string; port?: number; auth?: string } = {}): Promise<Started> {
  const chosen = port ?? (await freePort());
  const https = flags.includes('--tls-cert');
  const spawned = spawnNode('proxy/cli.js', [
    '--port',
    String(chosen),
    '--mcp-port',
    '0',
    '--registry',
    `${tempDir(t)}/registry.sqlite`,
    '--heartbeat-interval',
    '1',
    '--heartbeat-timeout',
    '6',
    ...flags,
  ]);
  t.teardown(() => spawned.stop());
  const base = `${https ? 'https' : 'http'}://127.0.0.1:${chosen}`;
  const headers: Record<string, string> = auth === undefined ? {} : { authorization: `Bearer ${auth}` };
  await waitFor(async () => (await getJson(`${base}/healthz`, caFile, headers))?.status === 200, `the proxy at ${base} answers\n${spawned.stderr()}`, 20_000);
  return { ...spawned, base, port: chosen };
}

/** A mesh-sidecar over the echo fixture with `flags` (`PORT` in them becomes its port), torn down after the test (not waited for). */
export async function echoSidecar(t: Test, name: string, flags: string[]): Promise<Started> {
  const port = await freePort();
  const args = flags.map((flag) => flag.replace('PORT', String(port)));
  const spawned = spawnNode('sidecar/cli.js', ['--name', name, '--port', String(port), '--heartbeat', '1', ...args, '--', 'python3', fixture('echo_server.py')]);
  t.teardown(() => spawned.stop());
  const https = flags.includes('--tls-cert');
  return { ...spawned, base: `${https ? 'https' : 'http'}://127.0.0.1:${port}`, port };
}

/** Waits until the proxy at `base` lists `service` healthy; returns its instances. */
export async function healthyOn(base: string, service: string, caFile?: string, timeoutMs = 30_000, token?: string): Promise<any[]> {
  let instances: any[] = [];
  await waitFor(
    async () => {
      const answer = await getJson(`${base}/v1/services/${service}`, caFile, token === undefined ? {} : { authorization: `Bearer ${token}` });
      instances = answer?.body?.instances ?? [];
      return answer?.status === 200 && answer.body.status === 'healthy';
    },
    `${service} is healthy on ${base}`,
    timeoutMs,
  );
  return instances;
}
