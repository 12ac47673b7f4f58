import type { z } from 'zod';
import { keysAt } from './schema-keys.js';
import { suggest } from './suggest.js';

/** One thing wrong with a manifest, located by its field path (line is added by the loader). */
export interface FieldProblem {
  path: PropertyKey[];
  message: string;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

// Names a value's kind the way a YAML author thinks of it.
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function describeExpected(expected: string): string {
  const names: Record<string, string> = { array: 'a list', object: 'a map', record: 'a map', int: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false' };
  return names[expected] ?? expected;
}

function typeProblem(issue: z.core.$ZodIssueInvalidType, data: unknown): string {
  const value = valueAt(data, issue.path);
  if (value === undefined) return 'required field is missing';
  const custom = !issue.message.startsWith('Invalid input');
  const expected = custom ? issue.message : `expected ${describeExpected(issue.expected)}`;
  return `${expected}, got ${kindOf(value)}`;
}

/**
 * Turns zod issues into one problem per wrong field, with messages for people editing YAML:
 * unknown keys are named one by one with a "did you mean" when a known key is close.
 */
export function fieldProblems(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, data: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    const path = [...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = keysAt(schema, path);
        for (const key of issue.keys) {
          const hint = suggest(key, known);
          const expected = known.length > 0 ? ` (known keys: ${known.join(', ')})` : '';
          problems.push({ path: [...path, key], message: hint === undefined ? `unknown key "${key}"${expected}` : `unknown key "${key}" (did you mean "${hint}"?)` });
        }
        break;
      }
      case 'invalid_key':
        problems.push({ path, message: issue.issues[0]?.message ?? issue.message });
        break;
      case 'invalid_type':
        problems.push({ path, message: typeProblem(issue, data) });
        break;
      case 'invalid_value':
        problems.push({ path, message: valueAt(data, path) === undefined ? 'required field is missing' : issue.message.replace(/^Invalid input: /, '') });
        break;
      case 'invalid_union':
        problems.push({ path, message: issue.message === 'Invalid input' ? `unexpected ${kindOf(valueAt(data, path))}` : issue.message });
        break;
      default:
        problems.push({ path, message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  return problems;
}
