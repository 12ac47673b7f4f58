import { lastLines } from '../../../src/stdio/stderr-tail.js';
import type { DisplayStatus } from '../run-state.js';
import { errorLine } from './error-line.js';

/** What the proxy lists for one instance (the fields `mesh up` looks at). */
export interface ListedInstance {
  pid?: number | undefined;
  name: string;
  kind: 'sidecar' | 'native';
  url: string;
  port: number;
  status: string;
  state: string;
  toolCount: number;
}

/** A sidecar's GET /healthz body (the fields `mesh up` looks at). */
export interface SidecarHealthBody {
  state: string;
  pid?: number | undefined;
  tools?: number | undefined;
  lastError?: string | undefined;
  lastExit?: { description?: string; stderrTail?: string } | undefined;
}

/** Everything known about one instance at one moment. */
export interface InstanceFacts {
  /** Set when the process `mesh up` started has exited; `logTail` is the end of its log. */
  exited?: { description: string; logTail: string } | undefined;
  listed?: ListedInstance | undefined;
  health?: SidecarHealthBody | undefined;
  /** Time since the process was started, and how long it may take to become healthy. */
  elapsedMs: number;
  timeoutMs: number;
}

export interface Verdict {
  status: DisplayStatus;
  reason?: string;
  tools?: number;
}

// The sidecar's lastError already holds the exit and stderr ("... exited with code 3 while
// handling initialize; stderr: fatal: ..."); lastExit is the fallback. The stderr it quotes is the
// last lines, a stack's last frames for Node: the line naming the error takes their place.
function childReason(health: SidecarHealthBody): string {
  const exit = health.lastExit;
  const tail = exit?.stderrTail ?? '';
  const line = errorLine(tail);
  const quoted = line ?? lastLines(tail, 3);
  const fromExit = exit?.description === undefined ? undefined : `the server ${exit.description}${quoted ? `; stderr: ${quoted}` : ''}`;
  const lastError = line === undefined || health.lastError === undefined ? health.lastError : health.lastError.replace(`; stderr: ${lastLines(tail, 5)}`, `; stderr: ${line}`);
  const base = lastError ?? fromExit ?? `the server is ${health.state}`;
  const what = health.state === 'restarting' ? ' (retrying)' : health.state === 'crashloop' ? ' (crash loop)' : health.state === 'exited' ? ' (not restarted: restart policy)' : '';
  return `${base}${what}`;
}

/**
 * The status `mesh up` shows for an instance, from its process, its registration and its
 * sidecar's health. Pure, so every case is unit-tested.
 * @example classify({ listed: { status: 'healthy', toolCount: 5, ... }, elapsedMs: 900, timeoutMs: 60_000 }) // { status: 'healthy', tools: 5 }
 */
export function classify(facts: InstanceFacts): Verdict {
  if (facts.exited !== undefined) {
    const tail = errorLine(facts.exited.logTail) ?? lastLines(facts.exited.logTail, 3);
    return { status: 'failed', reason: `process ${facts.exited.description}${tail ? `: ${tail}` : ''}` };
  }
  const { listed, health } = facts;
  if (health !== undefined && ['restarting', 'crashloop', 'exited'].includes(health.state)) return { status: 'failed', reason: childReason(health) };
  if (listed !== undefined) {
    if (listed.status === 'healthy') return { status: 'healthy', tools: listed.toolCount };
    if (listed.status === 'restarting' || listed.status === 'crashloop') return { status: 'failed', reason: `the server is ${listed.status}` };
    if (listed.status === 'unhealthy') return { status: 'unhealthy', reason: 'missed heartbeats or failing calls', tools: listed.toolCount };
  }
  if (facts.elapsedMs > facts.timeoutMs) {
    const seconds = Math.round(facts.timeoutMs / 1000);
    return { status: 'failed', reason: listed === undefined ? `not registered with the proxy within ${seconds} s` : `not healthy within ${seconds} s (status ${listed.status})` };
  }
  return { status: 'starting' };
}

/** A service's status from its replicas': healthy when every replica is. */
export function serviceVerdict(instances: readonly Verdict[]): Verdict {
  const tools = instances.find((v) => v.tools !== undefined)?.tools;
  const withTools = tools === undefined ? {} : { tools };
  if (instances.length === 0) return { status: 'stopped' };
  if (instances.every((v) => v.status === 'healthy')) return { status: 'healthy', ...withTools };
  if (instances.some((v) => v.status === 'starting' || v.status === 'pending')) return { status: 'starting', ...withTools };
  const bad = instances.find((v) => v.status !== 'healthy');
  const reason = instances.length > 1 ? `${instances.filter((v) => v.status === 'healthy').length}/${instances.length} replicas healthy; ${bad?.reason ?? ''}` : bad?.reason;
  const status = instances.every((v) => v.status === 'stopped') ? 'stopped' : bad?.status === 'unhealthy' ? 'unhealthy' : 'failed';
  return reason === undefined ? { status, ...withTools } : { status, reason, ...withTools };
}
