import { MeshError } from '../../src/errors.js';
import { LEASE_HEADER } from '../../src/contract/lease.js';
import { leaseMatches, newLease } from '../../src/http/lease.js';
import type { Logger } from '../../src/log.js';
import type { InstanceIndex } from './instance-index.js';
import type { Registration } from '../../src/contract/registration.js';
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
      throw new MeshError(
        'CONFLICT',
        `instance id "${registration.id}" belongs to the live service "${owner.record.name}" (at ${owner.record.url}); register "${registration.name}" under another id`,
        {
          context: { id: registration.id, owner: owner.record.name },
        },
      );
    }
    if (owner.record.url !== registration.url && !leaseMatches(lease, owner.record.lease)) {
      throw new MeshError(
        'CONFLICT',
        `instance id "${registration.id}" is live at ${owner.record.url}; moving it to ${registration.url} needs its lease (${LEASE_HEADER}), else register under another id`,
        {
          context: { id: registration.id, owner: owner.record.name, url: owner.record.url },
        },
      );
    }
  }
  const atUrl = entries.get(entries.idAtUrl(registration.url) ?? '');
  if (atUrl && atUrl.record.id !== registration.id && atUrl.record.name !== registration.name && isLive(atUrl, now, policy)) {
    throw new MeshError('CONFLICT', `url ${registration.url} is served by the live instance "${atUrl.record.id}" of service "${atUrl.record.name}"; one url serves one service`, {
      context: { url: registration.url, owner: atUrl.record.name, instance: atUrl.record.id },
    });
  }
}

// The live instance a registration would take over without its lease: the live owner of its id,
// or the live instance of the same service at its url under another id (which it would replace).
function holderWithoutLease(entries: InstanceIndex, registration: Registration, lease: string | undefined, now: number, policy: HealthPolicy): Entry | undefined {
  const owner = entries.get(registration.id);
  if (owner && isLive(owner, now, policy)) return leaseMatches(lease, owner.record.lease) ? undefined : owner;
  const atUrl = entries.get(entries.idAtUrl(registration.url) ?? '');
  if (atUrl && atUrl.record.id !== registration.id && isLive(atUrl, now, policy) && !leaseMatches(lease, atUrl.record.lease)) return atUrl;
  return undefined;
}

/**
 * True when registering `registration` would take a live instance (its id, or its url under another
 * id) from the holder of its lease: the proxy must first see the registration's claim at the url's
 * /healthz (`claimProven`).
 */
export function needsClaim(entries: InstanceIndex, registration: Registration, lease: string | undefined, now: number, policy: HealthPolicy): boolean {
  return holderWithoutLease(entries, registration, lease, now, policy) !== undefined;
}

/**
 * Refuses a registration that takes a live instance without its lease unless its claim was seen at
 * the url's /healthz, and one that would set a state other than starting/ready (only the lease
 * holder reports restarting or crashloop).
 * @throws MeshError CONFLICT naming the problem
 */
export function assertMayTakeOver(entries: InstanceIndex, registration: Registration, lease: string | undefined, claimProven: boolean, now: number, policy: HealthPolicy): void {
  const holder = holderWithoutLease(entries, registration, lease, now, policy);
  if (!holder) return;
  const { id, name, url } = holder.record;
  const context = { id, service: name, url };
  if (registration.state !== undefined && registration.state !== 'starting' && registration.state !== 'ready') {
    throw new MeshError(
      'CONFLICT',
      `registration of the live instance "${id}" without its lease (${LEASE_HEADER}) may not set state "${registration.state}": only starting or ready; the lease holder reports other states`,
      { context },
    );
  }
  if (claimProven) return;
  const why = registration.claim === undefined ? 'carries neither its lease nor a claim' : 'carries a claim that was not confirmed';
  const taking = registration.id === id ? '' : ` (registering "${registration.id}" at its url would replace it)`;
  throw new MeshError(
    'CONFLICT',
    `instance "${id}" of service "${name}" is live at ${url}${taking}; this registration ${why}: send the lease its registration answered with (${LEASE_HEADER}), or the claim whose SHA-256 that instance's GET /healthz shows (claimSha256), or register under another id and url`,
    { context },
  );
}

/**
 * Refuses a heartbeat or deregistration that does not carry the instance's current lease.
 * @throws MeshError CONFLICT (HTTP 409: the instance runtime registers again and gets a new lease)
 */
export function assertLease(entry: Entry, presented: string | undefined, action: 'heartbeat' | 'deregistration'): void {
  if (leaseMatches(presented, entry.record.lease)) return;
  const { id, name } = entry.record;
  const problem =
    presented === undefined
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
