import { MeshError } from '../../src/errors.js';
import { LEASE_HEADER, leaseMatches, newLease } from '../../src/http/lease.js';
import type { Logger } from '../../src/log.js';
import type { InstanceIndex } from './instance-index.js';
import type { Registration } from './schemas.js';
import { isLive, type HealthPolicy } from './status.js';
import type { Entry } from './views.js';

// An instance id belongs to the service and URL that registered it, and its heartbeats and its
// deregistration to whoever holds its lease. These checks say so, naming the owner, never the lease.

/**
 * Refuses a registration that would take a live id or url from its owner: the id or url of another
 * live service, or a live id moved to another url without its lease.
 * @throws MeshError CONFLICT naming the owner
 */
export function assertMayRegister(entries: InstanceIndex, registration: Registration, lease: string | undefined, now: number, policy: HealthPolicy): void {
  const owner = entries.get(registration.id);
  if (owner && isLive(owner, now, policy)) {
    if (owner.record.name !== registration.name) {
      throw new MeshError('CONFLICT', `instance id "${registration.id}" belongs to the live service "${owner.record.name}" (at ${owner.record.url}); register "${registration.name}" under another id`, {
        context: { id: registration.id, owner: owner.record.name },
      });
    }
    if (owner.record.url !== registration.url && !leaseMatches(lease, owner.record.lease)) {
      throw new MeshError('CONFLICT', `instance id "${registration.id}" is live at ${owner.record.url}; moving it to ${registration.url} needs its lease (${LEASE_HEADER}), else register under another id`, {
        context: { id: registration.id, owner: owner.record.name, url: owner.record.url },
      });
    }
  }
  const atUrl = entries.get(entries.idAtUrl(registration.url) ?? '');
  if (atUrl && atUrl.record.id !== registration.id && atUrl.record.name !== registration.name && isLive(atUrl, now, policy)) {
    throw new MeshError('CONFLICT', `url ${registration.url} is served by the live instance "${atUrl.record.id}" of service "${atUrl.record.name}"; one url serves one service`, {
      context: { url: registration.url, owner: atUrl.record.name, instance: atUrl.record.id },
    });
  }
}

/**
 * Refuses a heartbeat or deregistration that does not carry the instance's current lease.
 * @throws MeshError CONFLICT (HTTP 409: the instance runtime registers again and gets a new lease)
 */
export function assertLease(entry: Entry, presented: string | undefined, action: 'heartbeat' | 'deregistration'): void {
  if (leaseMatches(presented, entry.record.lease)) return;
  const { id, name } = entry.record;
  const problem = presented === undefined
    ? `carries no lease: send the lease its registration answered with, in the ${LEASE_HEADER} header`
    : `carries a lease that is not the current lease of instance "${id}" (it registered again since, or the sender is not that instance)`;
  throw new MeshError('CONFLICT', `${action} of instance "${id}" refused: it ${problem}; register again to get a lease`, { context: { id, service: name } });
}

/**
 * The lease a registration gets: the current one when it carries it, else a new one. Taking a live
 * instance's lease is logged, naming the instance, never the lease.
 */
export function leaseFor(existing: Entry | undefined, presented: string | undefined, live: boolean, logger: Logger): string {
  if (existing && leaseMatches(presented, existing.record.lease)) return existing.record.lease;
  if (existing && live) {
    const { id, name } = existing.record;
    logger.info(`instance "${id}" of service "${name}" registered again without its current lease: issued a new one (the previous holder's beats now get 409 and it registers again)`);
  }
  return newLease();
}
