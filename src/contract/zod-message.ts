import type { z } from 'zod';
import { MeshError } from '../errors.js';

/** One problem in a body, with the dotted path of the field it concerns. */
export interface FieldProblem {
  path: string;
  message: string;
}

const MAX_LISTED = 6;

// Dotted form of a zod path: ['tools', 3, 'inputSchema'] → "tools.3.inputSchema".
function joinPath(path: readonly PropertyKey[]): string {
  return path.map((part) => String(part)).join('.');
}

// zod prefixes its stock messages with "Invalid input: "; the field path already says that.
function tidy(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

/**
 * Every problem in a ZodError as {path, message}; an unknown key becomes one problem per key.
 * @example zodProblems(err) // [{ path: 'command', message: 'field not allowed: …' }]
 */
export function zodProblems(error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: joinPath([...issue.path, key]), message: tidy(issue.message) });
    } else {
      problems.push({ path: joinPath(issue.path), message: tidy(issue.message) });
    }
  }
  return problems;
}

/**
 * One readable line naming each failing field: `tools.3.inputSchema: expected object; command: field not allowed…`.
 * @example formatZodError(result.error)
 */
export function formatZodError(error: z.ZodError): string {
  const problems = zodProblems(error);
  const listed = problems.slice(0, MAX_LISTED).map((p) => `${p.path || '(body)'}: ${p.message}`);
  const more = problems.length > MAX_LISTED ? ` (and ${problems.length - MAX_LISTED} more)` : '';
  return listed.join('; ') + more;
}

/**
 * Parses a boundary value or throws a `BAD_REQUEST` MeshError whose message names the fields.
 * @example const reg = parseOrThrow(RegistrationSchema, body, 'registration')
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new MeshError('BAD_REQUEST', `invalid ${what}: ${formatZodError(result.error)}`, {
    context: { problems: zodProblems(result.error) },
  });
}
