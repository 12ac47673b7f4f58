import type { InstanceRecord } from './instance-store.js';
import type { InstanceSummary, InstanceView, ServiceSummary } from '../../src/contract/services.js';
import type { ChildState, InstanceStatus } from '../../src/contract/states.js';
import { serviceStatus } from './status.js';

/** The registry's in-memory state of one instance: the stored record plus live facts. */
export interface Entry {
  record: InstanceRecord;
  lastHeartbeat: number;
  state: ChildState;
  status: InstanceStatus;
  inflight: number | undefined;
  calls: number | undefined;
  /** Child restarts, as the sidecar's last beat said. */
  restarts: number | undefined;
}

// The shapes the registry answers with are the wire contract's (src/contract/services.ts).
export type { InstanceSummary, InstanceView, ServiceSummary } from '../../src/contract/services.js';

/** The summary of one entry. */
export function toSummary(entry: Entry): InstanceSummary {
  const r = entry.record;
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    host: r.host,
    port: r.port,
    pid: r.pid,
    kind: r.kind,
    version: r.version,
    tags: r.tags,
    toolsHash: r.toolsHash,
    toolCount: r.tools.length,
    state: entry.state,
    status: entry.status,
    lastHeartbeat: entry.lastHeartbeat,
    registeredAt: r.registeredAt,
    updatedAt: r.updatedAt,
    inflight: entry.inflight,
    calls: entry.calls,
    restarts: entry.restarts,
  };
}

/** The full view of one entry (tools are shared, frozen, never copied). */
export function toView(entry: Entry): InstanceView {
  return { ...toSummary(entry), tools: entry.record.tools, resources: entry.record.resources, prompts: entry.record.prompts };
}

// Replicas should list the same tools; a healthy one is the most trustworthy, then the newest.
/** The replica whose tools stand for the service. */
export function representative(entries: readonly Entry[]): Entry | undefined {
  let best: Entry | undefined;
  for (const entry of entries) {
    if (!best) best = entry;
    else if ((entry.status === 'healthy') !== (best.status === 'healthy')) best = entry.status === 'healthy' ? entry : best;
    else if (entry.record.updatedAt > best.record.updatedAt) best = entry;
  }
  return best;
}

/** A service summary from its replicas (at least one). */
export function toServiceSummary(name: string, entries: readonly Entry[], calls = 0): ServiceSummary {
  const tags = new Set<string>();
  let healthyCount = 0;
  for (const entry of entries) {
    for (const tag of entry.record.tags) tags.add(tag);
    if (entry.status === 'healthy') healthyCount++;
  }
  return {
    name,
    status: serviceStatus(entries.map((e) => e.status)),
    instanceCount: entries.length,
    healthyCount,
    toolCount: representative(entries)?.record.tools.length ?? 0,
    tags: [...tags].sort(),
    instances: entries.map(toSummary),
    calls,
  };
}

// Stored records are shared with every reader; freezing makes an accidental mutation throw.
/** Deep-freezes a plain JSON value in place. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
