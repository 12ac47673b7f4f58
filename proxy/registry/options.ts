import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../../src/log.js';
import type { InstanceNetworks } from './instance-networks.js';
import { isPostgresUrl } from './store/pg-url.js';

/** How a registry is opened; every field has a default. */
export interface RegistryOptions {
  /** The registry file; absent = memory only (no file, no lock). */
  file?: string | undefined;
  /**
   * A file, or a PostgreSQL URL (`postgres://…`, `postgresql://…`; credentials from the URL or the
   * PG* variables) shared by several proxies. Takes precedence over `file`.
   */
  registry?: string | undefined;
  /** Names this proxy in audit rows and logs (PostgreSQL; default hostname:pid). */
  proxyId?: string | undefined;
  /** The clock for every age and timestamp (tests inject one; default `Date.now`). */
  now?: () => number;
  /** Expected time between heartbeats (default 30 s). */
  heartbeatIntervalMs?: number;
  /** Missed beats before an instance is unhealthy (default 3). */
  unhealthyAfterMisses?: number;
  /** Silence after which an instance is removed (default 120 s). */
  removeAfterMs?: number;
  /** Networks (`--allow-instances`) whose IP addresses instances may register from besides loopback (default none). */
  allowInstances?: InstanceNetworks | undefined;
  /** Audit rows kept (default 10,000). */
  auditRetention?: number;
  /** Longest wait before buffered audit records are inserted (default 100 ms). */
  auditBatchDelayMs?: number;
  /** Delay before instance changes are written to the file (default 200 ms). */
  flushDelayMs?: number;
  /** Delay before audit-only changes are written to the file (default 30 s). */
  auditFlushDelayMs?: number;
  /** How often `sweep()` runs on its own; 0 = only when the owner calls it (default 0). */
  sweepIntervalMs?: number;
  logger?: Logger;
}

/** Options with every default filled in. */
export type ResolvedRegistryOptions = Required<Omit<RegistryOptions, 'file' | 'registry' | 'proxyId' | 'allowInstances'>> & {
  file: string | undefined;
  /** The PostgreSQL URL when the registry lives there. */
  url: string | undefined;
  proxyId: string;
  allowInstances: InstanceNetworks | undefined;
};

/** The defaults, from DESIGN.md's health and state sections. */
export const registryDefaults = {
  heartbeatIntervalMs: 30_000,
  unhealthyAfterMisses: 3,
  removeAfterMs: 120_000,
  auditRetention: 10_000,
  auditBatchDelayMs: 100,
  flushDelayMs: 200,
  auditFlushDelayMs: 30_000,
  sweepIntervalMs: 0,
} as const;

// Explicit undefined in a caller's options means "default", as with a missing field.
/** Fills in defaults. */
export function resolveRegistryOptions(options: RegistryOptions): ResolvedRegistryOptions {
  const pick = <K extends keyof typeof registryDefaults>(key: K) => options[key] ?? registryDefaults[key];
  const url = isPostgresUrl(options.registry) ? options.registry : undefined;
  return {
    file: url === undefined ? (options.registry ?? options.file) : undefined,
    url,
    proxyId: options.proxyId ?? `${hostname()}:${process.pid}`,
    now: options.now ?? Date.now,
    logger: options.logger ?? silentLogger,
    heartbeatIntervalMs: pick('heartbeatIntervalMs'),
    unhealthyAfterMisses: pick('unhealthyAfterMisses'),
    removeAfterMs: pick('removeAfterMs'),
    allowInstances: options.allowInstances,
    auditRetention: pick('auditRetention'),
    auditBatchDelayMs: pick('auditBatchDelayMs'),
    flushDelayMs: pick('flushDelayMs'),
    auditFlushDelayMs: pick('auditFlushDelayMs'),
    sweepIntervalMs: pick('sweepIntervalMs'),
  };
}
