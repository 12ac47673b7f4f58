import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { matchesSecret, secretDigest } from './bearer-token.js';

// An instance's lease: the secret POST /v1/instances answers with. Its heartbeats and its
// deregistration carry it in this header, so a beat speaks only for the instance that registered.
// Shared by the proxy (which issues and checks it) and the instance runtime (which keeps it).

/** The request header that carries an instance's lease (`PUT …/heartbeat`, `DELETE /v1/instances/:id`, and a re-registration). */
export const LEASE_HEADER = 'x-mesh-lease';

/** A lease as sent back: base64url; issued as 32 random bytes (43 characters). */
export const LeaseSchema = z.string().regex(/^[A-Za-z0-9_-]{22,256}$/, {
  error: `must be the lease POST /v1/instances answered with (22-256 characters of base64url), sent in the ${LEASE_HEADER} header`,
});
export type Lease = z.infer<typeof LeaseSchema>;

/** The part of POST /v1/instances' answer (`{ instance, lease }`) a registering instance keeps. */
export const RegisteredAnswerSchema = z.looseObject({ lease: LeaseSchema });
export type RegisteredAnswer = z.infer<typeof RegisteredAnswerSchema>;

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

/** A claim as sent in a registration body (`claim`): base64url; made as 32 random bytes (43 characters). */
export const ClaimSchema = z.string().regex(/^[A-Za-z0-9_-]{43,256}$/, {
  error: 'must be the instance\'s claim: 43-256 characters of base64url, whose SHA-256 (hex) its GET /healthz shows as claimSha256',
});

/** The part of an instance's GET /healthz the proxy reads to check a claim. */
export const HealthClaimSchema = z.looseObject({ claimSha256: z.string().regex(/^[0-9a-f]{64}$/) });

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
