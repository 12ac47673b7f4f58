import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { MeshError } from '../src/errors.js';
import { isLoopbackHost } from './registry/loopback.js';

// A registration carries a lease and a bearer token: over plain HTTP from another host both cross
// the network in clear. The listener marks such requests; each registration path refuses them.

/** What the listener knows of the request being served. */
interface Peer {
  /** The request came over plain HTTP from an address that is not loopback. */
  plainRemote: boolean;
  address: string;
}

const current = new AsyncLocalStorage<Peer>();

/** True for a request over plain HTTP (not TLS) whose peer is not loopback. */
export function isPlainRemote(socket: { remoteAddress?: string | undefined; encrypted?: boolean }): boolean {
  return socket.encrypted !== true && !isLoopbackHost(socket.remoteAddress ?? '');
}

/**
 * Wraps a server's listener so the registration paths can tell a plain-HTTP request from another
 * host (refusePlainRemote); with `allowPlainHttp` (--allow-plain-http) nothing is marked.
 * @example createServer(markPlainRemote(listener, { allowPlainHttp: false }))
 */
export function markPlainRemote<R extends IncomingMessage, S extends ServerResponse>(listener: (req: R, res: S) => void, { allowPlainHttp }: { allowPlainHttp: boolean }): (req: R, res: S) => void {
  if (allowPlainHttp) return listener;
  return (req, res) => {
    const socket = req.socket as Partial<TLSSocket>;
    if (!isPlainRemote(socket)) return listener(req, res);
    current.run({ plainRemote: true, address: socket.remoteAddress ?? '?' }, () => listener(req, res));
  };
}

/**
 * Throws FORBIDDEN when the request being served registers, beats or deregisters over plain HTTP
 * from another host (see markPlainRemote); `what` names the refused action.
 * @throws MeshError FORBIDDEN naming TLS and --allow-plain-http
 */
export function refusePlainRemote(what: string): void {
  const peer = current.getStore();
  if (peer?.plainRemote !== true) return;
  throw new MeshError(
    'FORBIDDEN',
    `Forbidden: ${what} over plain HTTP from ${peer.address} refused: registrations from other hosts need TLS (start mesh-proxy with --tls-cert and --tls-key, and register with an https:// proxy URL), or start it with --allow-plain-http to accept them in clear`,
  );
}
