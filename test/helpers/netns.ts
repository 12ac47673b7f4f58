import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import type { Test } from 'tap';
import { groupAlive } from '../../src/stdio/process-group.js';
import { NsAgent } from './netns-agent-client.js';
import { dist, waitFor } from './processes.js';

// Hosts as Linux network namespaces: one "switch" namespace holds a bridge, every host namespace
// has one veth ("eth0") whose peer sits on that bridge. Nothing is added to the root namespace:
// the test talks to the hosts through processes it runs inside them (see NsAgent). A host has no
// route beyond its /24 and loopback, so nothing in the lab can reach an address outside it.

/** A process started inside a host namespace, in its own process group. */
export interface NsProcess {
  proc: ResultPromise;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Signals the whole process group (default SIGKILL: the host "crashes"). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL to what is left of the group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

/** One "host": a network namespace with one address on the lab's /24. */
export interface NsHost {
  /** The short name given to startNetwork ("db", "pa"…). */
  name: string;
  /** The namespace's name (mm-<pid>-<name>). */
  ns: string;
  address: string;
  /** Starts `command` inside this namespace; the network's teardown ends it. */
  spawn(command: string, args: string[], options?: { env?: Record<string, string> }): NsProcess;
  /** Starts a node script from dist/ inside this namespace. */
  spawnNode(script: string, args: string[], env?: Record<string, string>): NsProcess;
  /** A long-lived helper process inside this namespace that fetches and calls the mesh for the test. */
  agent(env?: Record<string, string>): Promise<NsAgent>;
  /** Cuts this host's cable (its peer on the bridge goes down): nothing reaches it, nothing leaves. */
  linkDown(): void;
  linkUp(): void;
}

export interface Network {
  /** e.g. 10.213.7.0/24 */
  cidr: string;
  hosts: Record<string, NsHost>;
  host(name: string): NsHost;
  /** The namespaces this network made (the switch included). */
  namespaces: string[];
}

/** Whether `ip` (iproute2) is on PATH. */
function hasIp(): boolean {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Every ip(8) call of the lab goes through here, so a failure names the command.
function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

/** Pids whose network namespace is `ns`. */
export function namespacePids(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .filter((line) => /^\d+$/.test(line.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

/** Names of every network namespace of the machine. */
export function listNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

/**
 * Builds a lab of hosts on 10.213.<octet>.0/24 (one octet per test file, so parallel files never share
 * addresses): host i gets 10.213.<octet>.<i+1>. Returns undefined after ONE skip line when the machine
 * cannot run it (no iproute2, not root). Everything is torn down with the test: the processes started
 * in the namespaces (group kill, then `ip netns pids` until empty), then the namespaces and their links.
 * @example const net = await startNetwork(t, 7, ['a', 'b']); if (!net) return;
 */
export async function startNetwork(t: Test, octet: number, names: string[]): Promise<Network | undefined> {
  if (!hasIp()) {
    t.skip('needs network namespaces: install the Debian package iproute2', () => undefined);
    return undefined;
  }
  if (process.getuid?.() !== 0) {
    t.skip('needs root: network namespaces (ip netns) can only be made by root', () => undefined);
    return undefined;
  }
  const prefix = `mm-${process.pid}-`;
  const switchNs = `${prefix}switch`;
  const made: string[] = [];
  const processes: NsProcess[] = [];
  // Should the test process end without its teardown (a crash, a timeout), nothing is left running.
  const onExit = () => teardownSync(made, processes);
  process.once('exit', onExit);
  t.teardown(async () => {
    await teardown(made, processes);
    process.off('exit', onExit);
  });
  made.push(switchNs);
  ip('netns', 'add', switchNs);
  ip('-n', switchNs, 'link', 'set', 'lo', 'up');
  ip('-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', switchNs, 'link', 'set', 'br0', 'up');
  const hosts: Record<string, NsHost> = {};
  names.forEach((name, index) => {
    const ns = `${prefix}${name}`;
    const peer = `v-${name}`.slice(0, 15);
    const address = `10.213.${octet}.${index + 1}`;
    made.push(ns);
    ip('netns', 'add', ns);
    ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', switchNs);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', switchNs, 'link', 'set', peer, 'master', 'br0', 'up');
    hosts[name] = makeHost(name, ns, address, peer, switchNs, processes);
  });
  return {
    cidr: `10.213.${octet}.0/24`,
    hosts,
    namespaces: [...made],
    host(name: string) {
      const host = hosts[name];
      if (!host) throw new Error(`no host named ${name} in this network`);
      return host;
    },
  };
}

function makeHost(name: string, ns: string, address: string, peer: string, switchNs: string, processes: NsProcess[]): NsHost {
  const spawn = (command: string, args: string[], options: { env?: Record<string, string> } = {}) => {
    const spawned = spawnIn(ns, command, args, options.env ?? {});
    processes.push(spawned);
    return spawned;
  };
  return {
    name,
    ns,
    address,
    spawn,
    spawnNode: (script, args, env = {}) => spawn('node', [dist(script), ...args], { env }),
    async agent(env = {}) {
      const spawned = spawn('node', [dist('test/helpers/netns-agent.js')], { env });
      return new NsAgent(spawned.proc, name);
    },
    linkDown: () => ip('-n', switchNs, 'link', 'set', peer, 'down'),
    linkUp: () => ip('-n', switchNs, 'link', 'set', peer, 'up'),
  };
}

// `ip netns exec` execs the command in place, so the pid we get is the command's own.
function spawnIn(ns: string, command: string, args: string[], env: Record<string, string>): NsProcess {
  const proc = execa('ip', ['netns', 'exec', ns, command, ...args], { env, reject: false, detached: true, buffer: false, stdin: 'pipe' });
  proc.catch(() => undefined);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const pid = proc.pid ?? -1;
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* the group is gone already */
    }
  };
  return {
    proc,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => signalGroup(signal),
    async stop(graceMs = 10_000) {
      if (pid < 0) return;
      if (!exited()) signalGroup('SIGTERM');
      await waitFor(() => exited(), `pid ${pid} exits`, graceMs).catch(() => undefined);
      if (groupAlive(pid)) signalGroup('SIGKILL');
      await waitFor(() => !groupAlive(pid), `process group ${pid} is gone`, 5_000).catch(() => undefined);
    },
  };
}

// Processes first (their groups, then anything else still in a namespace), then the namespaces.
async function teardown(made: string[], processes: NsProcess[]): Promise<void> {
  await Promise.all(processes.map((spawned) => spawned.stop(5_000)));
  for (const ns of made) {
    const end = Date.now() + 10_000;
    for (let pids = namespacePids(ns); pids.length > 0 && Date.now() < end; pids = namespacePids(ns)) {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* exited meanwhile */
        }
      }
      await delay(50);
    }
  }
  // Deleting a host namespace deletes its veth and the peer on the bridge; the switch goes last.
  for (const ns of [...made].reverse()) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}

// The last resort, synchronous for process.on('exit'): SIGKILL to every group and namespace member, then delete.
function teardownSync(made: string[], processes: NsProcess[]): void {
  for (const spawned of processes) spawned.kill('SIGKILL');
  for (const ns of made) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
    }
  }
  for (const ns of [...made].reverse()) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}
