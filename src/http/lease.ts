import { randomBytes } from 'node:crypto';
import type { Lease } from '../contract/lease.js';
import { matchesSecret, secretDigest } from './bearer-token.js';

// An instance's lease: the secret POST /v1/instances answers with. Its heartbeats and its
// deregistration carry it in a header (LEASE_HEADER), so a beat speaks only for the instance that
// registered. Shared by the proxy (which issues and checks it) and the instance runtime (which
// keeps it). Their wire form (header, schemas) is in src/contract/lease.ts.

/** A new lease: 256 random bits, base64url. */
export function newLease(): Lease {
  return randomBytes(32).toString('base64url');
}

/** True when `presented` is `lease`, compared in constant time; a missing one never matches. */
export function leaseMatches(presented: string | undefined, lease: string): boolean {
  return presented !== undefined && matchesSecret(presented, secretDigest(lease));
}

// An instance's claim: a secret each instance process makes at start and sends in its registration
// body, while its own GET /healthz shows only the claim's SHA-256. A registration of a live id that
// does not carry that id's lease is accepted only when the proxy finds the presented claim's digest
// at the registered URL's /healthz (as ACME HTTP-01 proves control of a URL): a restarted instance
// gets back in at once, a token holder who only knows the public id, name and URL does not.

/** A new claim: 256 random bits, base64url. */
export function newClaim(): string {
  return randomBytes(32).toString('base64url');
}

/** What GET /healthz shows of a claim: its SHA-256, hex. */
export function claimDigest(claim: string): string {
  return secretDigest(claim).toString('hex');
}

/** True when `shown` (a /healthz claimSha256) is the digest of `claim`, compared in constant time. */
export function claimMatches(claim: string, shown: string): boolean {
  return /^[0-9a-f]{64}$/.test(shown) && matchesSecret(claim, Buffer.from(shown, 'hex'));
}
