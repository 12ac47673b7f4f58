import type { CallToolResult } from './types.js';

/**
 * The text parts of a tool result, joined with newlines (images, audio and resources are skipped).
 * @example console.log(text(await mesh.call('fs', 'read_text', { path: 'chapter1.txt' })))
 */
export function text(result: Pick<CallToolResult, 'content'>, separator = '\n'): string {
  return result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(separator);
}
