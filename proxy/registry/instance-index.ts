import type { InstanceStatus } from '../../src/contract/states.js';
import { serviceStatus } from './status.js';
import type { Entry } from './views.js';

/**
 * The in-memory index of live entries: by id, by service name (replicas) and by url. Every read
 * of the registry is served from here; SQL is touched only by changes.
 */
export class InstanceIndex {
  private readonly byId = new Map<string, Entry>();
  private readonly byName = new Map<string, Map<string, Entry>>();
  private readonly idByUrl = new Map<string, string>();

  /** Instances indexed. */
  get size(): number {
    return this.byId.size;
  }

  /** Services (distinct names) indexed. */
  get serviceCount(): number {
    return this.byName.size;
  }

  /** The entry with this id. */
  get(id: string): Entry | undefined {
    return this.byId.get(id);
  }

  /** The id registered at this url, if any. */
  idAtUrl(url: string): string | undefined {
    return this.idByUrl.get(url);
  }

  /** Every entry, in insertion order. */
  values(): IterableIterator<Entry> {
    return this.byId.values();
  }

  /** Every service name, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** True while the service has at least one replica. */
  hasName(name: string): boolean {
    return this.byName.has(name);
  }

  /** The replicas of one service (empty for an unknown name). */
  replicasOf(name: string): Entry[] {
    return [...(this.byName.get(name)?.values() ?? [])];
  }

  // One place keeps the three maps in step.
  /** Adds an entry (its record's id, name and url). */
  add(entry: Entry): void {
    const { id, name, url } = entry.record;
    this.byId.set(id, entry);
    let replicas = this.byName.get(name);
    if (!replicas) this.byName.set(name, (replicas = new Map<string, Entry>()));
    replicas.set(id, entry);
    this.idByUrl.set(url, id);
  }

  /** Removes an entry. */
  delete(entry: Entry): void {
    const { id, name, url } = entry.record;
    this.byId.delete(id);
    const replicas = this.byName.get(name);
    replicas?.delete(id);
    if (replicas?.size === 0) this.byName.delete(name);
    if (this.idByUrl.get(url) === id) this.idByUrl.delete(url);
  }

  /** Points a url at an entry whose url changed (same id, same name). */
  moveUrl(entry: Entry, previousUrl: string): void {
    if (this.idByUrl.get(previousUrl) === entry.record.id) this.idByUrl.delete(previousUrl);
    this.idByUrl.set(entry.record.url, entry.record.id);
  }

  /** A service's status from its replicas' current statuses; undefined when it has none. */
  serviceStatusOf(name: string): InstanceStatus | undefined {
    const replicas = this.byName.get(name);
    if (!replicas || replicas.size === 0) return undefined;
    return serviceStatus([...replicas.values()].map((e) => e.status));
  }
}
