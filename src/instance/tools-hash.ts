import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/server';

/**
 * The tool-list hash a registration carries, by one recipe for sidecars, native instances and
 * services registered through the proxy's mesh tools: the registry compares hashes to see whether
 * an instance's tools changed, so every producer must hash alike.
 * @example toolsHash([]) // '4f53cda18c2baa0c'
 */
export function toolsHash(tools: readonly Tool[]): string {
  return createHash('sha256').update(JSON.stringify(tools)).digest('hex').slice(0, 16);
}
