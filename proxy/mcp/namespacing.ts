import { createHash } from 'node:crypto';

/** MCP tool names clients accept: what every namespaced name is kept within. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const SEPARATOR = '__';

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * The endpoint name of a service's tool: `service__tool`. Characters outside [A-Za-z0-9_-] become
 * "_", and a name past 64 characters is cut and given a hash of the full pair, so the same pair
 * always gets the same name however other services come and go.
 */
export function namespacedName(service: string, tool: string): string {
  const plain = `${service}${SEPARATOR}${tool}`;
  const cleaned = plain.replace(/[^A-Za-z0-9_-]/g, '_');
  if (cleaned === plain && cleaned.length <= 64) return cleaned;
  const suffix = `_${shortHash(plain)}`;
  return `${cleaned.slice(0, 64 - suffix.length)}${suffix}`;
}

export interface ToolRef {
  service: string;
  tool: string;
}

/** Resolves endpoint names back to (service, tool); built from the current tool set. */
export class ToolNameIndex {
  private readonly byName = new Map<string, ToolRef>();

  constructor(entries: Iterable<ToolRef>) {
    for (const ref of entries) this.byName.set(namespacedName(ref.service, ref.tool), ref);
  }

  resolve(name: string): ToolRef | undefined {
    const known = this.byName.get(name);
    if (known) return known;
    // A plain `service__tool` whose tool is not (yet) indexed still routes: the router reports what is wrong.
    const at = name.indexOf(SEPARATOR);
    return at > 0 ? { service: name.slice(0, at), tool: name.slice(at + SEPARATOR.length) } : undefined;
  }
}
