import type { LeftReason, RegistryEmitter } from './events.js';
import type { HealthTracker } from './health.js';
import type { InstanceIndex } from './instance-index.js';
import { instanceStatus, type HealthPolicy } from './status.js';
import type { LoadedRecord, RemoteChange } from './store/store-types.js';
import { deepFreeze, type Entry } from './views.js';

/** The registry's parts another proxy's changes are applied to. */
export interface RemoteTarget {
  entries: InstanceIndex;
  health: HealthTracker;
  events: RegistryEmitter;
  policy: HealthPolicy;
  now: () => number;
  /** Removes an entry from memory and announces it, without writing to the store. */
  drop: (entry: Entry, reason: LeftReason, by?: string) => void;
}

/**
 * The time a stored instance was last heard from, on this proxy's clock. A row older than one
 * heartbeat interval counts as one interval old: a proxy (re)starting after a long pause never
 * mass-expires live instances (they beat again, or the sweep evicts them later).
 */
export function heardAt(loaded: LoadedRecord, now: number, policy: HealthPolicy): number {
  return now - Math.min(loaded.ageMs, policy.heartbeatIntervalMs);
}

/** Fills the table from the store on open (no events: nobody listens yet). */
export function loadEntries(target: RemoteTarget, records: readonly LoadedRecord[]): void {
  const now = target.now();
  for (const item of records) {
    const entry = target.health.newEntry(deepFreeze(item.record), now);
    entry.lastHeartbeat = heardAt(item, now, target.policy);
    entry.status = instanceStatus(entry, now, target.policy);
    target.entries.add(entry);
  }
}

/**
 * Applies a change another proxy made (or the table reloaded after a reconnect) to this proxy's
 * in-memory table, with the events a local change would emit (joined, left, tools, status).
 */
export function applyRemote(target: RemoteTarget, change: RemoteChange): void {
  const now = target.now();
  switch (change.kind) {
    case 'upsert':
      return upsert(target, change.loaded, now);
    case 'delete': {
      const entry = target.entries.get(change.id);
      if (entry) target.drop(entry, change.reason, change.by);
      return;
    }
    case 'beat':
      for (const id of change.ids) {
        const entry = target.entries.get(id);
        if (!entry) continue;
        entry.lastHeartbeat = Math.max(entry.lastHeartbeat, now);
        target.health.refresh(entry, now, 'heartbeat');
      }
      return;
    case 'reload': {
      const stored = new Set<string>();
      for (const loaded of change.records) {
        stored.add(loaded.record.id);
        if (!change.pending.has(loaded.record.id)) upsert(target, loaded, now);
      }
      // Gone from the table while this proxy was not listening: removed elsewhere.
      for (const entry of [...target.entries.values()]) {
        if (!stored.has(entry.record.id) && !change.pending.has(entry.record.id)) target.drop(entry, 'deregistered');
      }
    }
  }
}

// Same shape as Registry.register's tail: new entry → joined; known entry → record swapped, tools event on a new hash.
function upsert(target: RemoteTarget, loaded: LoadedRecord, now: number): void {
  const record = deepFreeze(loaded.record);
  const heard = heardAt(loaded, now, target.policy);
  let existing = target.entries.get(record.id);
  if (existing && existing.record.name !== record.name) {
    target.drop(existing, 'renamed');
    existing = undefined;
  }
  if (!existing) {
    const entry = target.health.newEntry(record, now);
    entry.lastHeartbeat = heard;
    entry.status = instanceStatus(entry, now, target.policy);
    target.entries.add(entry);
    target.events.emit({ type: 'joined', ...target.health.eventBase(entry, now), url: record.url });
    return;
  }
  const previousHash = existing.record.toolsHash;
  const previousUrl = existing.record.url;
  existing.record = record;
  target.entries.moveUrl(existing, previousUrl);
  existing.lastHeartbeat = Math.max(existing.lastHeartbeat, heard);
  existing.state = record.state ?? 'ready';
  target.health.refresh(existing, now, 'register');
  if (previousHash !== record.toolsHash) {
    target.events.emit({ type: 'tools', ...target.health.eventBase(existing, now), toolsHash: record.toolsHash, previousHash, toolCount: record.tools.length });
  }
}
