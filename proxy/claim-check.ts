import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { HealthClaimSchema } from '../src/contract/lease.js';
import { claimMatches } from '../src/http/lease.js';

/** How long the proxy waits for an instance's /healthz when checking a claim. */
export const CLAIM_CHECK_TIMEOUT_MS = 2_000;
const MAX_HEALTH_BYTES = 64 * 1024;

/** The outcome of a claim check: confirmed, or why not, in the proxy's own words (never the remote's body). */
export type ClaimCheck = { confirmed: true } | { confirmed: false; reason: string };

/**
 * Asks the server at `url`'s origin for GET /healthz and looks for the digest of `claim` in it
 * (the instance runtime shows `claimSha256`). Sends the proxy's token, follows no redirect, reads at
 * most 64 KiB, gives up after a short timeout. Call it only after the url passed the registry's
 * loopback and ownership checks.
 * @example const check = await checkClaim('http://127.0.0.1:5001/mcp', body.claim, token)
 */
export async function checkClaim(url: string, claim: string, token: string | undefined, timeoutMs = CLAIM_CHECK_TIMEOUT_MS, ca?: string[]): Promise<ClaimCheck> {
  const healthz = `${new URL(url).origin}/healthz`;
  let text: string;
  try {
    text = await getHealth(healthz, token, timeoutMs, ca);
  } catch (error) {
    return { confirmed: false, reason: `${healthz}: ${(error as Error).message}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { confirmed: false, reason: `${healthz} did not answer JSON` };
  }
  const shown = HealthClaimSchema.safeParse(body);
  if (!shown.success) return { confirmed: false, reason: `${healthz} shows no claimSha256 (not an instance of this mesh, or an older one)` };
  return claimMatches(claim, shown.data.claimSha256) ? { confirmed: true } : { confirmed: false, reason: `${healthz} shows another claim: the server at that URL is not the one registering` };
}

// node:http rather than fetch: fetch refuses "bad ports" (5060, 5061 in the default instance range).
// Rejects with an Error in our own words; a body over the cap, a redirect or an odd status is a refusal.
function getHealth(healthz: string, token: string | undefined, timeoutMs: number, ca: string[] | undefined): Promise<string> {
  const https = healthz.startsWith('https:');
  const get = https ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(healthz, { headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: timeoutMs, ...(https && ca && { ca }) }, (response) => {
      // A not-ready instance answers 503 with the same body; anything else shows no claim.
      if (response.statusCode !== 200 && response.statusCode !== 503) {
        response.destroy();
        reject(new Error(`answered HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_HEALTH_BYTES) {
          response.destroy();
          reject(new Error(`answered more than ${MAX_HEALTH_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.on('error', () => reject(new Error('the answer was cut off')));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', (error: NodeJS.ErrnoException) => reject(error.code === undefined ? error : new Error(`connection failed (${error.code})`)));
  });
}
