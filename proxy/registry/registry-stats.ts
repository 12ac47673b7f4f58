import type { InstanceIndex } from './instance-index.js';
import type { WriteStats } from './persist.js';
import type { RegistryStats } from './registry-types.js';
import type { InstanceStatus } from '../../src/contract/states.js';

/** A zero count for every status. */
export function emptyStatusCounts(): Record<InstanceStatus, number> {
  return { starting: 0, healthy: 0, unhealthy: 0, restarting: 0, crashloop: 0 };
}

// Counts come from the index and the writer, never from SQL, so stats() is cheap to poll.
/** The registry's figures from its index, its file writer and its audit log. */
export function collectStats(index: InstanceIndex, writes: WriteStats | undefined, audit: { rows: number; pending: number }): Omit<RegistryStats, 'evictions' | 'store'> {
  let healthy = 0;
  for (const entry of index.values()) if (entry.status === 'healthy') healthy++;
  return {
    instances: index.size,
    services: index.serviceCount,
    healthyInstances: healthy,
    fileWrites: writes?.writes ?? 0,
    fileBytes: writes?.bytes ?? 0,
    lastWriteAt: writes?.lastWriteAt,
    writeErrors: writes?.errors ?? 0,
    writePending: writes?.dirty ?? false,
    auditRows: audit.rows,
    auditPending: audit.pending,
  };
}
