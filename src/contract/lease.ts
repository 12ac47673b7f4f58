import { z } from 'zod';

// An instance's lease and claim on the wire (what they are for: src/http/lease.ts). The lease is
// the secret POST /v1/instances answers with; heartbeats and the deregistration carry it in a header.

/** The request header that carries an instance's lease (`PUT …/heartbeat`, `DELETE /v1/instances/:id`, and a re-registration). */
export const LEASE_HEADER = 'x-mesh-lease';

/** A lease as sent back: base64url; issued as 32 random bytes (43 characters). */
export const LeaseSchema = z.string().regex(/^[A-Za-z0-9_-]{22,256}$/, {
  error: `must be the lease POST /v1/instances answered with (22-256 characters of base64url), sent in the ${LEASE_HEADER} header`,
});
export type Lease = z.infer<typeof LeaseSchema>;

/** A claim as sent in a registration body (`claim`): base64url; made as 32 random bytes (43 characters). */
export const ClaimSchema = z.string().regex(/^[A-Za-z0-9_-]{43,256}$/, {
  error: "must be the instance's claim: 43-256 characters of base64url, whose SHA-256 (hex) its GET /healthz shows as claimSha256",
});

/** The part of an instance's GET /healthz the proxy reads to check a claim. */
export const HealthClaimSchema = z.looseObject({ claimSha256: z.string().regex(/^[0-9a-f]{64}$/) });
