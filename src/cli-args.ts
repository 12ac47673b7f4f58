import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

// Built, this file is dist/src/cli-args.js (package.json two levels up); run from source by tsx
// (unit tests importing a command's parsers), it is src/cli-args.ts (one level up).
function readVersion(): string {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not there: the other layout
    }
  }
  return '0.0.0';
}

/** MM's version, from package.json. */
export const packageVersion: string = readVersion();

/** Commander parser for a port (0 allowed: any free port). */
export function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

/** Commander parser for a positive number (seconds, mostly). */
export function positiveArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Commander parser for a whole number above 0 (counts such as --max-crashes). */
export function wholeArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
}

/** Commander parser for a whole number of lines, 0 allowed (`mesh logs -n 0` prints nothing). */
export function countArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of lines');
  return n;
}

/** Commander accumulator for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Turns repeated KEY=VALUE options into an environment object. */
export function envPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`--env expects KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}
