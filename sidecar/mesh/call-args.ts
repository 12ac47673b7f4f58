import { CliError } from './errors.js';

interface InputSchema {
  properties?: Record<string, { type?: unknown }>;
}

function typesOf(schema: InputSchema | undefined, key: string): string[] {
  const type = schema?.properties?.[key]?.type;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

function parseJson(key: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`argument ${key}: ${what}, got ${JSON.stringify(text)}`);
  }
}

// The tool's input schema says what a `k=v` value is, so `count=3` is a number and `text=3` a string.
function coerce(key: string, value: string, schema: InputSchema | undefined): unknown {
  const types = typesOf(schema, key);
  if (types.includes('string') || (types.length === 0 && !/^(-?\d|true$|false$|null$|[[{"])/.test(value))) return value;
  if (types.length === 0) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (types.includes('integer') || types.includes('number')) {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (types.includes('integer') && !types.includes('number') && !Number.isInteger(n))) {
      throw new CliError(`argument ${key}: expected ${types.includes('number') ? 'a number' : 'a whole number'}, got ${JSON.stringify(value)}`);
    }
    return n;
  }
  if (types.includes('boolean')) {
    if (value === 'true' || value === 'false') return value === 'true';
    throw new CliError(`argument ${key}: expected true or false, got ${JSON.stringify(value)}`);
  }
  return parseJson(key, value, `expected JSON (${types.join('|')})`);
}

/**
 * Tool arguments from `k=v` pairs (typed by the tool's input schema) and `k:=<json>` pairs, on top
 * of a `--json '{...}'` object.
 * @example parseCallArgs(['path=chapter1.txt', 'limit=5'], undefined, schema) // { path: 'chapter1.txt', limit: 5 }
 */
export function parseCallArgs(pairs: readonly string[], json: string | undefined, schema?: InputSchema): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    const parsed = parseJson('--json', json, 'expected a JSON object');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`--json: expected a JSON object like '{"path": "x"}', got ${json}`);
    args = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const raw = /^([^=:]+):=(.*)$/s.exec(pair);
    if (raw) {
      args[raw[1]!] = parseJson(raw[1]!, raw[2]!, 'expected JSON after :=');
      continue;
    }
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`argument "${pair}": write KEY=VALUE (or KEY:=JSON, or --json '{...}')`);
    const key = pair.slice(0, eq);
    args[key] = coerce(key, pair.slice(eq + 1), schema);
  }
  return args;
}
