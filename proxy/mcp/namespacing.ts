import { createHash } from 'node:crypto';
import { MeshError } from '../../src/errors.js';

/** MCP tool names clients accept: what every namespaced name is kept within. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The default separator between service and tool: `fs__read_text`. */
export const SEPARATOR = '__';
/** What a separator may be: 1-4 characters a tool name may hold, at least one of them "_" or "-". */
export const SEPARATOR_PATTERN = /^(?=.*[_-])[A-Za-z0-9_-]{1,4}$/;

const MAX = 64;
/** `_` and 8 hex digits (32 bits of SHA-256 of the pair). */
const SUFFIX_LENGTH = 9;

/**
 * Checks a configured separator (`proxy.separator`, `--separator`): every name built with it must
 * still match TOOL_NAME_PATTERN and split back into its service and tool.
 * @throws MeshError BAD_REQUEST naming the rule
 */
export function checkSeparator(separator: string): string {
  if (!SEPARATOR_PATTERN.test(separator)) {
    throw new MeshError('BAD_REQUEST', `separator ${JSON.stringify(separator)}: use 1-4 characters of A-Z, a-z, 0-9, "_" or "-", at least one of them "_" or "-" (e.g. "__", "_", "--")`);
  }
  return separator;
}

function shortHash(service: string, tool: string): string {
  // The pair, unambiguously: a NUL cannot occur in either name.
  return createHash('sha256')
    .update(`${service}\0${tool}`)
    .digest('hex')
    .slice(0, SUFFIX_LENGTH - 1);
}

/**
 * The endpoint name of a service's tool: `service<sep>tool` when that is a valid tool name and
 * splits back at its first separator into the same pair (so plain names never collide). Otherwise
 * (characters outside [A-Za-z0-9_-] become "_", a name past 64 characters, a service name that holds
 * or ends in part of the separator) the cleaned name, cut to fit, ends in `_` and a hash of the
 * pair: deterministic, so the same pair always gets the same name however other services come and go.
 * @example namespacedName('fs', 'read_text') // 'fs__read_text'
 */
export function namespacedName(service: string, tool: string, separator = SEPARATOR): string {
  const plain = `${service}${separator}${tool}`;
  const cleaned = plain.replace(/[^A-Za-z0-9_-]/g, '_');
  if (cleaned === plain && plain.length <= MAX && plain.indexOf(separator) === service.length && tool.length > 0) return plain;
  return `${cleaned.slice(0, MAX - SUFFIX_LENGTH)}_${shortHash(service, tool)}`;
}

export interface ToolRef {
  service: string;
  tool: string;
}

/** Resolves endpoint names back to (service, tool); built from the current tool set. */
export class ToolNameIndex {
  private readonly byName = new Map<string, ToolRef>();

  constructor(
    entries: Iterable<ToolRef>,
    private readonly separator = SEPARATOR,
  ) {
    for (const ref of entries) this.byName.set(namespacedName(ref.service, ref.tool, separator), ref);
  }

  resolve(name: string): ToolRef | undefined {
    const known = this.byName.get(name);
    if (known) return known;
    // A plain `service__tool` whose tool is not (yet) indexed still routes: the router reports what is wrong.
    const at = name.indexOf(this.separator);
    return at > 0 ? { service: name.slice(0, at), tool: name.slice(at + this.separator.length) } : undefined;
  }
}

/** Names tools and prompts with one separator (the proxy's `--separator`). */
export class ToolNamer {
  constructor(readonly separator = SEPARATOR) {
    checkSeparator(separator);
  }

  name(service: string, tool: string): string {
    return namespacedName(service, tool, this.separator);
  }

  index(entries: Iterable<ToolRef>): ToolNameIndex {
    return new ToolNameIndex(entries, this.separator);
  }
}
