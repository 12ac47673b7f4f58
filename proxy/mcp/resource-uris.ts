import type { ContentBlock, GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/server';

/**
 * Every service's resources are listed under one scheme the proxy can route back:
 * `mesh://<service>/<the service's own uri, verbatim>`, e.g.
 * `mesh://everything/demo://resource/static/document/architecture.md`.
 *
 * The original uri is kept verbatim rather than percent-encoded so that a resource template maps
 * to a template that expands exactly like the original: `mesh://everything/demo://resource/dynamic/text/{resourceId}`
 * expands to `mesh://everything/` followed by precisely what the service's own template expands
 * to (encoding the literal parts would leave values encoded differently from the original). Service
 * names never contain "/", so the first "/" after the scheme ends the service. The result is a valid
 * URI (":" and "/" are allowed in a path) and names the same resource as long as the service's
 * own uri does, so names are stable as services come and go. Listings also keep the original in
 * `_meta["mesh/uri"]` (`_meta["mesh/uriTemplate"]` for templates).
 */
export const MESH_URI_SCHEME = 'mesh://';

/** The endpoint uri of a service's resource (or resource template). */
export function toMeshUri(service: string, uri: string): string {
  return `${MESH_URI_SCHEME}${service}/${uri}`;
}

/** The service and its own uri behind an endpoint uri; undefined when `uri` is not a mesh uri. */
export function parseMeshUri(uri: string): { service: string; uri: string } | undefined {
  if (!uri.startsWith(MESH_URI_SCHEME)) return undefined;
  const rest = uri.slice(MESH_URI_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { service: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}

// Content that points at a resource must point at it through the proxy, or the client cannot read it.
/** Rewrites resource links and embedded resources in content blocks to mesh uris (copies only what changes). */
export function meshContent<C extends ContentBlock>(service: string, blocks: C[]): C[] {
  // On every routed tool call: plain text results (the usual case) cost one scan, no copy.
  if (!blocks.some((block) => block.type === 'resource_link' || block.type === 'resource')) return blocks;
  return blocks.map((block) => {
    if (block.type === 'resource_link') return { ...block, uri: toMeshUri(service, block.uri) };
    if (block.type === 'resource') return { ...block, resource: { ...block.resource, uri: toMeshUri(service, block.resource.uri) } };
    return block;
  });
}

/** A resources/read answer with its contents' uris as the client asked for them. */
export function meshReadResult(service: string, result: ReadResourceResult): ReadResourceResult {
  return { ...result, contents: result.contents.map((content) => ({ ...content, uri: toMeshUri(service, content.uri) })) };
}

/** A prompts/get answer whose embedded resources and resource links are readable through the proxy. */
export function meshPromptResult(service: string, result: GetPromptResult): GetPromptResult {
  return {
    ...result,
    messages: result.messages.map((message) => {
      const [content] = meshContent(service, [message.content]);
      return content === message.content ? message : { ...message, content: content as typeof message.content };
    }),
  };
}
