import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Test } from 'tap';
import { startNetwork, type Network, type NsHost, type NsProcess } from './netns.js';
import type { NsAgent } from './netns-agent-client.js';
import { startPostgres, type PgCluster } from './postgres.js';
import { fixture, freePort } from './processes.js';
import { tempDir } from './proxy.js';
import { makeCerts, noOpenssl, type TestCerts } from './tls.js';

// The multi-host mesh of issue 12 on network namespaces: PostgreSQL on "db", proxies and sidecars on
// the hosts a test names, TLS between all of them (one test CA), one mesh token. The test itself sits
// in the root namespace and sees the lab only through agents running inside the hosts.

export interface LabProxy {
  host: NsHost;
  /** https://<host address>:<port> */
  url: string;
  process: NsProcess;
}

export interface LabSidecar {
  host: NsHost;
  name: string;
  /** https://<host address>:<port> (its /healthz and /mcp). */
  url: string;
  process: NsProcess;
  /** The sidecar's /healthz, asked from its own host (so it answers while its link is down). */
  health(): Promise<any>;
}

export interface MeshLab {
  net: Network;
  pg: PgCluster;
  certs: TestCerts;
  token: string;
  headers: Record<string, string>;
  /** An agent on `host` that trusts the lab's CA (one per host, started on first use). */
  agent(host: string): Promise<NsAgent>;
  startProxy(host: string, id: string, extra?: string[]): Promise<LabProxy>;
  /** A sidecar serving the echo fixture as `name`, registering with the first reachable of `proxies`. */
  startSidecar(host: string, name: string, proxies: LabProxy[], extra?: string[]): Promise<LabSidecar>;
  /** `GET /v1/services` of `proxy`, asked from the client host. */
  services(proxy: LabProxy): Promise<any[]>;
}

/**
 * Starts the network (db first, then `hosts`) and PostgreSQL on db; proxies and sidecars come from the
 * returned lab. Undefined after one skip line when iproute2, root, PostgreSQL or openssl is missing.
 */
export async function startLab(t: Test, octet: number, hosts: string[]): Promise<MeshLab | undefined> {
  const noTls = noOpenssl();
  if (noTls) {
    t.skip(noTls, () => undefined);
    return undefined;
  }
  const net = await startNetwork(t, octet, ['db', ...hosts]);
  if (!net) return undefined;
  const db = net.host('db');
  const pg = await startPostgres(t, { listen: db.address, netns: db.ns, allow: net.cidr });
  if (!pg) return undefined;
  const dir = tempDir(t, 'mm-lab-');
  const certs = makeCerts(dir, { ips: Object.values(net.hosts).map((host) => host.address) });
  const token = randomBytes(16).toString('hex');
  const headers = { authorization: `Bearer ${token}` };
  const agents = new Map<string, Promise<NsAgent>>();
  const agent = (host: string) => {
    let started = agents.get(host);
    if (!started) {
      started = net.host(host).agent({ NODE_EXTRA_CA_CERTS: certs.caFile, MESH_TOKEN: token });
      agents.set(host, started);
    }
    return started;
  };
  const tls = ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--ca', certs.caFile, '--token', token];

  const lab: MeshLab = {
    net,
    pg,
    certs,
    token,
    headers,
    agent,
    async startProxy(hostName, id, extra = []) {
      const host = net.host(hostName);
      const port = await freePort();
      const args = ['--host', host.address, '--port', String(port), '--mcp-port', '0', '--registry', pg.url, '--proxy-id', id];
      const spawned = host.spawnNode('proxy/cli.js', [...args, ...tls, '--allow-instances', net.cidr, ...extra], { MESH_HOME: dir });
      const url = `https://${host.address}:${port}`;
      await ready(await agent('client'), `${url}/healthz`, (status) => status === 200, spawned, `proxy ${id}`, headers);
      return { host, url, process: spawned };
    },
    async startSidecar(hostName, name, proxies, extra = []) {
      const host = net.host(hostName);
      const port = await freePort();
      const url = `https://${host.address}:${port}`;
      const args = ['--name', name, '--host', host.address, '--port', String(port), '--proxy', proxies.map((proxy) => proxy.url).join(','), '--advertise-url', url];
      const spawned = host.spawnNode('sidecar/cli.js', [...args, ...tls, ...extra, '--', 'python3', fixture('echo_server.py')], { MESH_HOME: dir });
      const own = await agent(hostName);
      await ready(own, `${url}/healthz`, (_, body) => body?.state === 'ready' && body?.proxy?.registered === true, spawned, `sidecar ${name}`, headers);
      return { host, name, url, process: spawned, health: async () => (await own.json(`${url}/healthz`, headers)).body };
    },
    async services(proxy) {
      const answer = await (await agent('client')).json(`${proxy.url}/v1/services`, headers);
      if (answer.status !== 200) throw new Error(`GET ${proxy.url}/v1/services: ${answer.status} ${answer.error ?? JSON.stringify(answer.body)}`);
      return answer.body.services as any[];
    },
  };
  return lab;
}

// Readiness is polled from inside the lab; a process that exits or never gets there fails with its stderr.
async function ready(agent: NsAgent, url: string, accept: (status: number, body: any) => boolean, spawned: NsProcess, what: string, headers: Record<string, string>): Promise<void> {
  const end = Date.now() + 30_000;
  let last = '';
  while (Date.now() < end && !spawned.exited()) {
    const answer = await agent.json(url, headers);
    if (answer.status !== 0 && accept(answer.status, answer.body)) return;
    last = answer.error ?? `${answer.status} ${JSON.stringify(answer.body)}`;
    await delay(100);
  }
  const why = spawned.exited() ? `it exited (${spawned.proc.exitCode ?? spawned.proc.signalCode})` : `timed out polling ${url}; last: ${last}`;
  throw new Error(`${what} did not get ready: ${why}\nstderr:\n${spawned.stderr().slice(-3000)}`);
}
