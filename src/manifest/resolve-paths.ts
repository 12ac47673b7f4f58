import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Manifest, ProxyConfig, Service } from './schema.js';
import type { Views } from '../contract/views.js';

/** A service as `mesh up` runs it: `cwd` is always an absolute folder. */
export type ResolvedService = Omit<Service, 'cwd' | 'command' | 'url' | 'headers'> & { cwd: string; command: string };

/** A remote server of the manifest (`url:` instead of `command:`): the proxy registers it; nothing runs here. */
export interface ResolvedRemote {
  url: string;
  /** Sent on every request to it (secrets: never logged or shown). */
  headers: Record<string, string>;
  tags: string[];
  enabled: boolean;
  description?: string | undefined;
}

/** A manifest with defaults filled and every path absolute. */
export interface ResolvedManifest {
  version: 1;
  proxy: ProxyConfig;
  services: Record<string, ResolvedService>;
  /** Remote servers (`url:`), apart from the services `mesh up` runs. */
  remotes: Record<string, ResolvedRemote>;
  /** Named views (`/mcp/<view>` on the proxy). */
  views: Views;
  /** Absolute path of the manifest file and its folder (the base of relative paths). */
  source: { file: string; dir: string };
}

/** `~` and `~/x` to the home folder; anything else unchanged. */
export function expandHome(path: string, home = homedir()): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? resolve(home, path.slice(2)) : path;
}

/** A path-like manifest value made absolute against the manifest folder. */
export function resolveAgainst(dir: string, path: string): string {
  const expanded = expandHome(path);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(dir, expanded);
}

// A command is a program name looked up on PATH unless it is written as a path.
function resolveCommand(dir: string, command: string): string {
  if (command.startsWith('./') || command.startsWith('../')) return resolve(dir, command);
  return expandHome(command);
}

// The PEM files of TLS (tlsCert, tlsKey, ca) resolve against the manifest folder too.
function pemPaths(dir: string, section: { tlsCert?: string | undefined; tlsKey?: string | undefined; ca?: string | undefined }): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const key of ['tlsCert', 'tlsKey', 'ca'] as const) {
    const value = section[key];
    if (value !== undefined) paths[key] = resolveAgainst(dir, value);
  }
  return paths;
}

/*
 * Which values are paths: only `cwd`, `proxy.registry`, the PEM files (tlsCert, tlsKey, ca) and a `command` written as `./x` or `../x`
 * resolve against the manifest's folder. `args` are passed as written (only the server knows
 * which of them are paths), except that a leading `~/` expands as a shell would; relative args
 * are relative to the child's cwd, which defaults to the manifest's folder, so
 * `../examples/x.py` in configs/demo.yaml works from wherever `mesh up` is run.
 * `~/` expands to the home folder in cwd, registry, command and args; env values stay as written.
 */
export function resolvePaths(manifest: Manifest, file: string): ResolvedManifest {
  const absolute = resolve(file);
  const dir = resolve(absolute, '..');
  const services: Record<string, ResolvedService> = {};
  const remotes: Record<string, ResolvedRemote> = {};
  for (const [name, { url, headers, command, ...service }] of Object.entries(manifest.services)) {
    if (url !== undefined) {
      remotes[name] = { url, headers: headers ?? {}, tags: service.tags, enabled: service.enabled, ...(service.description !== undefined && { description: service.description }) };
      continue;
    }
    services[name] = {
      ...service,
      command: resolveCommand(dir, command ?? ''),
      args: service.args.map((arg) => expandHome(arg)),
      cwd: service.cwd === undefined ? dir : resolveAgainst(dir, service.cwd),
      ...pemPaths(dir, service),
    };
  }
  // A PostgreSQL URL is passed on as it is; a file resolves against the manifest's folder.
  const registry = manifest.proxy.registry;
  const isUrl = registry !== undefined && /^postgres(ql)?:\/\//i.test(registry);
  const resolved = registry === undefined || isUrl ? manifest.proxy : { ...manifest.proxy, registry: resolveAgainst(dir, registry) };
  const proxy = { ...resolved, ...pemPaths(dir, manifest.proxy) };
  return { version: manifest.version, proxy, services, remotes, views: manifest.views, source: { file: absolute, dir } };
}
