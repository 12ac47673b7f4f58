import type { Tool, ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { MeshError } from '../errors.js';
import type { ToolContext } from './tool-context.js';
import { toolsHash } from './tools-hash.js';

/** A tool's input: a zod object schema, or its shape (`{ path: z.string() }`). */
export type ToolInput = z.ZodObject | z.ZodRawShape;

/** The handler's arguments: the input schema's output type. */
export type ArgsOf<S extends ToolInput> = S extends z.ZodType ? z.output<S> : S extends z.ZodRawShape ? z.output<z.ZodObject<S>> : never;

/** A tool handler: typed arguments and the call's context in, a result (see toToolResult) out. */
export type ToolHandler<A> = (args: A, ctx: ToolContext) => unknown;

/** Optional parts of a tool's definition beyond its input schema. */
export interface ToolSpec {
  description?: string;
  title?: string;
  annotations?: ToolAnnotations;
}

/** One registered tool: what tools/list shows, and what runs on tools/call. */
export interface NativeTool {
  definition: Tool;
  input: z.ZodType;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tools of every input type share one map; tools/call parses the input with the tool's own schema first.
  handler: ToolHandler<any>;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

// zod 4 schemas carry `_zod.def.type`; duck-typed so a second copy of zod works too.
function zodType(value: unknown): string | undefined {
  const def = (value as { _zod?: { def?: { type?: unknown } } } | null | undefined)?._zod?.def;
  return typeof def?.type === 'string' ? def.type : undefined;
}

/** The object schema for a schema-or-shape, or a clear error at registration time. */
export function objectSchema(tool: string, input: unknown): z.ZodObject {
  const type = zodType(input);
  if (type === 'object') return input as z.ZodObject;
  if (type !== undefined) throw new MeshError('BAD_REQUEST', `tool "${tool}": the input schema must be a z.object(...) (MCP tool inputs are objects), got a zod ${type}`);
  if (typeof input === 'object' && input !== null && !Array.isArray(input) && Object.values(input).every((v) => zodType(v) !== undefined)) {
    return z.object(input as z.ZodRawShape);
  }
  throw new MeshError('BAD_REQUEST', `tool "${tool}": expected a zod object schema or a shape of zod schemas ({ path: z.string() })`);
}

/**
 * The tools of one native instance. JSON Schemas and the list's hash are computed when a tool is
 * added, never per call or per listing.
 */
export class NativeTools {
  private readonly byName = new Map<string, NativeTool>();
  private cachedList: Tool[] | undefined;
  private cachedHash: string | undefined;

  /** Adds a tool; throws on a bad or duplicate name or a non-object schema. */
  add(name: string, spec: ToolSpec, input: unknown, handler: unknown): NativeTool {
    if (!TOOL_NAME.test(name)) throw new MeshError('BAD_REQUEST', `invalid tool name "${name}": use 1-128 characters of A-Z, a-z, 0-9, "_", "." or "-"`);
    if (this.byName.has(name)) throw new MeshError('BAD_REQUEST', `tool "${name}" is already registered`);
    if (typeof handler !== 'function') throw new MeshError('BAD_REQUEST', `tool "${name}": the handler must be a function`);
    const schema = objectSchema(name, input);
    const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const definition: Tool = {
      name,
      ...(spec.title ? { title: spec.title } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      inputSchema: { ...inputSchema, type: 'object' },
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see NativeTool.handler
    const tool: NativeTool = { definition, input: schema, handler: handler as ToolHandler<any> };
    this.byName.set(name, tool);
    this.cachedList = undefined;
    this.cachedHash = undefined;
    return tool;
  }

  get(name: string): NativeTool | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The tools/list answer (the same array until a tool is added). */
  list(): Tool[] {
    this.cachedList ??= [...this.byName.values()].map((tool) => tool.definition);
    return this.cachedList;
  }

  /** Hash of the tool list, as the registry compares it (same recipe as the sidecar's). */
  hash(): string {
    this.cachedHash ??= toolsHash(this.list());
    return this.cachedHash;
  }
}

/**
 * One line naming every wrong argument, for the isError result of a call with bad arguments.
 * @example argumentProblems(issues) // 'path: expected string, received undefined; max: too big: expected number to be <=10'
 */
export function argumentProblems(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(arguments)';
      return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}
