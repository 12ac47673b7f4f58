import type { Prompt, Resource, ResourceTemplateType } from '@modelcontextprotocol/server';
import type { Logger } from '../../src/log.js';
import type { MeshCore } from '../core.js';
import type { Listings } from '../router/listings.js';
import { ToolNameIndex, ToolNamer } from './namespacing.js';
import { toMeshUri } from './resource-uris.js';
import type { ViewScope } from './view-scope.js';

/** The resources, resource templates and prompts the endpoint advertises, at one moment. */
export interface Catalog {
  resources: Resource[];
  templates: ResourceTemplateType[];
  prompts: Prompt[];
  /** Resolves `service__prompt` back to the service and its own prompt name. */
  promptIndex: ToolNameIndex;
  /** Healthy services whose lists could not be fetched, left out of this catalog. */
  missing: string[];
  builtAt: number;
}

interface Namespaced {
  service: string;
  namer: ToolNamer;
  resources: Resource[];
  templates: ResourceTemplateType[];
  prompts: Prompt[];
}

const described = (service: string, text: string | undefined, fallback: string) => `[${service}] ${text ?? fallback}`;

const DEFAULT_NAMER = new ToolNamer();

// Listings objects live as long as an instance's cache entry: namespace each one once.
const namespacedCache = new WeakMap<Listings, Namespaced>();

/** One service's listings under endpoint names, keeping the originals in `_meta`. */
export function namespaceListings(service: string, listings: Listings, namer = DEFAULT_NAMER): Namespaced {
  const cached = namespacedCache.get(listings);
  if (cached?.service === service && cached.namer === namer) return cached;
  const value: Namespaced = {
    service,
    namer,
    resources: listings.resources.map((r) => ({
      ...r,
      uri: toMeshUri(service, r.uri),
      description: described(service, r.description, r.name),
      _meta: { ...r._meta, 'mesh/service': service, 'mesh/uri': r.uri },
    })),
    templates: listings.templates.map((t) => ({
      ...t,
      uriTemplate: toMeshUri(service, t.uriTemplate),
      description: described(service, t.description, t.name),
      _meta: { ...t._meta, 'mesh/service': service, 'mesh/uriTemplate': t.uriTemplate },
    })),
    prompts: listings.prompts.map((p) => ({
      ...p,
      name: namer.name(service, p.name),
      description: described(service, p.description, p.name),
      _meta: { ...p._meta, 'mesh/service': service, 'mesh/prompt': p.name },
    })),
  };
  namespacedCache.set(listings, value);
  return value;
}

/**
 * Gathers the lists of every healthy service `scope` shows (from the router's per-instance cache,
 * fetching only what is not cached). A service that cannot be listed is left out and named in `missing`; it never
 * fails the whole catalog.
 */
export async function buildCatalog(core: MeshCore, log: Logger, scope?: ViewScope): Promise<Catalog> {
  const services = core.registry
    .services({ status: 'healthy' })
    .filter((s) => scope === undefined || scope.showsService(s.name, s.tags))
    .map((s) => s.name);
  const missing: string[] = [];
  const parts = await Promise.all(
    services.map(async (service) => {
      try {
        return namespaceListings(service, await core.router.listingsOf(service), core.namer);
      } catch (error) {
        log.warn(`cannot list resources and prompts of "${service}": ${(error as Error).message}`);
        missing.push(service);
        return undefined;
      }
    }),
  );
  const catalog: Catalog = { resources: [], templates: [], prompts: [], promptIndex: core.namer.index([]), missing, builtAt: Date.now() };
  const promptRefs: { service: string; tool: string }[] = [];
  for (const part of parts) {
    if (!part) continue;
    catalog.resources.push(...part.resources);
    catalog.templates.push(...part.templates);
    catalog.prompts.push(...part.prompts);
    for (const prompt of part.prompts) promptRefs.push({ service: part.service, tool: prompt._meta?.['mesh/prompt'] as string });
  }
  catalog.promptIndex = core.namer.index(promptRefs);
  return catalog;
}
