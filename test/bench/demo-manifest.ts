/**
 * A copy of configs/demo.yaml the bench can run beside anything else on the machine: written in a
 * temporary folder, proxy on a free port with no second MCP port and a registry in that folder.
 * Paths keep their meaning: a service without `cwd` ran in configs/, so it gets `cwd: <configs>`
 * (its relative args stay as written); a relative `cwd` or `./`, `../` command is made absolute.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { root } from './paths.js';

const DEMO_MANIFEST = join(root, 'configs/demo.yaml');

export interface BenchManifest {
  file: string;
  proxyUrl: string;
  /** Enabled services and how many replicas each should have healthy. */
  services: { name: string; replicas: number }[];
}

type Raw = Record<string, unknown>;

function asRecord(value: unknown): Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {};
}

/** Writes the rewritten copy of `source` as `<dir>/demo.yaml`. */
export function writeBenchManifest(dir: string, proxyPort: number, source = DEMO_MANIFEST): BenchManifest {
  const base = resolve(source, '..');
  const manifest = asRecord(parse(readFileSync(source, 'utf8')));
  const proxy = asRecord(manifest.proxy);
  manifest.proxy = { ...proxy, host: '127.0.0.1', port: proxyPort, mcpPort: 0, registry: join(dir, 'registry.sqlite') };
  const services: BenchManifest['services'] = [];
  for (const [name, value] of Object.entries(asRecord(manifest.services))) {
    const service = asRecord(value);
    const cwd = typeof service.cwd === 'string' ? service.cwd : '.';
    service.cwd = isAbsolute(cwd) || cwd.startsWith('~') ? cwd : resolve(base, cwd);
    const command = service.command;
    if (typeof command === 'string' && (command.startsWith('./') || command.startsWith('../'))) service.command = resolve(base, command);
    if (service.enabled !== false) services.push({ name, replicas: typeof service.replicas === 'number' ? service.replicas : 1 });
  }
  const file = join(dir, 'demo.yaml');
  writeFileSync(file, `# Written by mm-bench from ${source}\n${stringify(manifest)}`);
  return { file, proxyUrl: `http://127.0.0.1:${proxyPort}`, services };
}
