import { createHash, timingSafeEqual } from 'node:crypto';
import { MeshError, toHttpError, toHttpJsonRpcError } from '../errors.js';
import { LOOPBACK_HOSTS } from './host-guard.js';
import { isMcpUrl } from './mcp-post.js';

/** Why a request was refused for its credentials, with the `WWW-Authenticate` challenge to send with the 401. */
export interface TokenRefusal {
  message: string;
  challenge: string;
}

/** Checks a request's `Authorization` header; undefined when the request may pass. */
export type TokenCheck = (authorization: string | undefined) => TokenRefusal | undefined;

const REALM = 'Bearer realm="mesh"';

// Hashing both sides first makes the comparison constant-time whatever the lengths.
/** A secret's SHA-256 digest, kept to compare presented secrets against with `matchesSecret`. */
export const secretDigest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * True when `presented` is the secret whose digest is `expected`, compared in constant time (the
 * bearer token here, an instance's lease in the registry).
 * @example matchesSecret(req.headers['x-mesh-lease'] ?? '', secretDigest(storedLease))
 */
export function matchesSecret(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(presented), expected);
}

/**
 * The bearer-token check every HTTP path of a server applies when it has a token (a session id is
 * not a credential). Without a token every request passes.
 * @example const refused = createTokenCheck('s3cret')(req.headers.authorization); if (refused) answer 401
 */
export function createTokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined || token === '') return () => undefined;
  const expected = secretDigest(token);
  return (authorization) => {
    if (authorization === undefined || authorization.trim() === '') {
      return { message: 'Unauthorized: this server requires a bearer token (send "Authorization: Bearer <token>", the token given to it with --token / MESH_TOKEN)', challenge: REALM };
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return { message: 'Unauthorized: the Authorization header is not of the form "Bearer <token>"', challenge: `${REALM}, error="invalid_request"` };
    if (!matchesSecret(match[1] as string, expected)) {
      return { message: 'Unauthorized: the bearer token is wrong', challenge: `${REALM}, error="invalid_token"` };
    }
    return undefined;
  };
}

/**
 * Why binding `host` without a token is refused (anything bound beyond loopback needs a token), or
 * undefined when it may start. `who` names the server, `option` how its token is given.
 * @example const refused = tokenRequiredFor('0.0.0.0', undefined, 'this sidecar', '--token (or MESH_TOKEN)')
 */
export function tokenRequiredFor(host: string, token: string | undefined, who: string, option: string): string | undefined {
  if (LOOPBACK_HOSTS.includes(host) || (token !== undefined && token !== '')) return undefined;
  return `host ${host} exposes ${who} beyond this machine; set ${option} (the mesh token) so every request must carry it`;
}

/** The 401 body for a refused request: JSON-RPC shaped on the MCP endpoint, the API's error shape elsewhere. */
export function unauthorizedBody(path: string | undefined, refusal: TokenRefusal): unknown {
  const error = new MeshError('UNAUTHORIZED', refusal.message);
  return isMcpUrl(path) ? toHttpJsonRpcError(error).body : toHttpError(error).body;
}
