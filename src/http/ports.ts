import type { Server } from 'node:http';
import { MeshError } from '../errors.js';

/** WHATWG fetch refuses these ("bad port"), so no MCP client over fetch could reach a server there. */
export const FETCH_BLOCKED_PORTS = new Set([5060, 5061, 6000, 6665, 6666, 6667, 6668, 6669, 6697]);

export interface PortRange {
  from: number;
  to: number;
}

/** Parses "5000-5099". */
export function parsePortRange(text: string): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 1 || to > 65_535 || from > to) {
    throw new MeshError('BAD_REQUEST', `invalid port range "${text}": expected FROM-TO, e.g. 5000-5099`);
  }
  return { from, to };
}

function listenOnce(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Listens on `port` when given (0 lets the OS choose), else on the first free port of `range`,
 * skipping ports fetch refuses. Resolves with the bound port.
 */
export async function listenOnFreePort(server: Server, host: string, port: number | undefined, range: PortRange): Promise<number> {
  if (port !== undefined) {
    try {
      return await listenOnce(server, port, host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MeshError(code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'INTERNAL', `cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
    }
  }
  let tried = 0;
  for (let candidate = range.from; candidate <= range.to; candidate++) {
    if (FETCH_BLOCKED_PORTS.has(candidate)) continue;
    tried++;
    try {
      return await listenOnce(server, candidate, host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    }
  }
  throw new MeshError('NO_FREE_PORT', `no free port in ${range.from}-${range.to} on ${host} (all ${tried} usable ports are in use)`, {
    context: { host, range },
  });
}
