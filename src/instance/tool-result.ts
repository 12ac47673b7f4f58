import type { CallToolResult } from '@modelcontextprotocol/server';
import { MeshError } from '../errors.js';
import { ToolError } from '../client/errors.js';

/** True for a value shaped like an MCP tool result (a `content` array of typed parts). */
export function isCallToolResult(value: unknown): value is CallToolResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const content = (value as { content?: unknown }).content;
  return Array.isArray(content) && content.every((part) => typeof part === 'object' && part !== null && typeof (part as { type?: unknown }).type === 'string');
}

// Plain objects only: a class instance (a Date, a Map) has no faithful JSON object form.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Turns what a handler returned into an MCP tool result: a string becomes one text part; a plain
 * object becomes its JSON as text plus `structuredContent`; an array, number or boolean becomes its
 * JSON as text (MCP's `structuredContent` must be an object); a CallToolResult passes unchanged.
 * @example toToolResult({ score: 7 }) // { content: [{ type: 'text', text: '{\n  "score": 7\n}' }], structuredContent: { score: 7 } }
 */
export function toToolResult(value: unknown): CallToolResult {
  if (value === undefined || value === null) return { content: [] };
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (isCallToolResult(value)) return value;
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new MeshError('INTERNAL', `a tool returned a ${typeof value}, which has no JSON form; return a string, an object or a CallToolResult`);
  if (isPlainObject(value)) return { content: [{ type: 'text', text }], structuredContent: value };
  return { content: [{ type: 'text', text }] };
}

/**
 * The isError result a thrown error becomes, so the caller (often a model) can read what went
 * wrong: a MeshError keeps its code (`SERVICE_NOT_FOUND: unknown service "x"...`); a failed
 * nested tool keeps the nested tool's own message.
 * @example errorResult(new Error('no chapter 9')) // { isError: true, content: [{ type: 'text', text: 'no chapter 9' }] }
 */
export function errorResult(error: unknown): CallToolResult {
  let text: string;
  if (error instanceof ToolError) text = error.message;
  else if (error instanceof MeshError) text = `${error.code}: ${error.message}`;
  else if (error instanceof Error) text = error.message || error.name;
  else text = String(error);
  return { isError: true, content: [{ type: 'text', text }] };
}
