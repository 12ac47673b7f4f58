import { ListPromptsResultSchema, ListResourcesResultSchema, ListResourceTemplatesResultSchema } from '@modelcontextprotocol/core';
import { ProtocolError, ProtocolErrorCode, type Prompt, type Resource, type ResourceTemplateType } from '@modelcontextprotocol/client';
import type { Upstream } from './upstream.js';

/** What one instance offers besides tools, as its own list requests answered. */
export interface Listings {
  resources: readonly Resource[];
  templates: readonly ResourceTemplateType[];
  prompts: readonly Prompt[];
}

/** Upstream pages followed per list; a server paging past this is cut off rather than looping forever. */
const MAX_PAGES = 50;

type Page<T> = { nextCursor?: string | undefined; items: T[] };

// Follows nextCursor; a server that does not implement the method simply has none.
async function collect<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await fetchPage(cursor);
      items.push(...answer.items);
      cursor = answer.nextCursor;
      if (!cursor) break;
    }
  } catch (error) {
    if (error instanceof ProtocolError && error.code === ProtocolErrorCode.MethodNotFound) return items;
    throw error;
  }
  return items;
}

/** Lists everything an instance offers besides tools, asking only for what its capabilities announce. */
export async function fetchListings(upstream: Upstream, deadlineMs: number): Promise<Listings> {
  const capabilities = await upstream.capabilities();
  const params = (cursor: string | undefined) => (cursor === undefined ? {} : { cursor });
  const [resources, templates, prompts] = await Promise.all([
    capabilities.resources
      ? collect(async (c) => {
          const r = await upstream.request('resources/list', params(c), ListResourcesResultSchema, deadlineMs);
          return { items: r.resources, nextCursor: r.nextCursor };
        })
      : [],
    capabilities.resources
      ? collect(async (c) => {
          const r = await upstream.request('resources/templates/list', params(c), ListResourceTemplatesResultSchema, deadlineMs);
          return { items: r.resourceTemplates, nextCursor: r.nextCursor };
        })
      : [],
    capabilities.prompts
      ? collect(async (c) => {
          const r = await upstream.request('prompts/list', params(c), ListPromptsResultSchema, deadlineMs);
          return { items: r.prompts, nextCursor: r.nextCursor };
        })
      : [],
  ]);
  return Object.freeze({ resources, templates, prompts });
}

interface CacheEntry {
  /** The instance's url and tools hash when fetched: a re-registration with other values refetches. */
  key: string;
  value: Promise<Listings>;
  failedAt: number | undefined;
}

/**
 * Listings per instance, fetched once and kept until the registry or the instance says they
 * changed (a new tools hash, list_changed, a new session, the instance leaving). A failed fetch is
 * remembered for `retryAfterMs`, so a dead instance costs one attempt per window, not one per list.
 */
export class ListingCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly retryAfterMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the instance's listings are known (or being fetched) and current. */
  has(instanceId: string, key: string): boolean {
    const entry = this.entries.get(instanceId);
    return entry !== undefined && entry.key === key && entry.failedAt === undefined;
  }

  get(instanceId: string, key: string, fetch: () => Promise<Listings>): Promise<Listings> {
    const entry = this.entries.get(instanceId);
    if (entry && entry.key === key && (entry.failedAt === undefined || this.now() - entry.failedAt < this.retryAfterMs)) return entry.value;
    const fresh: CacheEntry = { key, value: fetch(), failedAt: undefined };
    fresh.value.catch(() => {
      if (this.entries.get(instanceId) === fresh) fresh.failedAt = this.now();
    });
    this.entries.set(instanceId, fresh);
    return fresh.value;
  }

  invalidate(instanceId: string): void {
    this.entries.delete(instanceId);
  }

  clear(): void {
    this.entries.clear();
  }
}
