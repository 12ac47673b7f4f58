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
