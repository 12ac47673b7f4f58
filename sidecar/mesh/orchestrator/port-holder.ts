import { requestJson } from './http-json.js';
import { connect } from 'node:net';

/** Who is on a port the mesh-proxy should listen on: nobody, a server asking for a token, or another program. */
export type PortHolder = 'free' | 'token-required' | 'other';

// A TCP connect says whether anything listens; refused means the port is free to bind.
function listening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // A ref'd timer: a socket that never connects must not leave the process with nothing to wait on.
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code !== 'ECONNREFUSED'));
  });
}

/**
 * Asked once `url` did not answer as a mesh-proxy: is its port free, held by a server that wants a
 * bearer token (a mesh-proxy started with a token, MESH_TOKEN unset here), or by another program
 * (something that answers HTTP otherwise, or does not answer HTTP at all)?
 * @example await portHolder('http://127.0.0.1:6001') // 'free'
 */
export async function portHolder(url: string, timeoutMs = 1_500): Promise<PortHolder> {
  const { hostname, port } = new URL(url);
  if (!(await listening(hostname.replace(/^\[|\]$/g, ''), Number(port || 80), timeoutMs))) return 'free';
  try {
    const answer = await requestJson(`${url}/healthz`, { timeoutMs });
    const challenge = answer.headers['www-authenticate'];
    return answer.status === 401 && /bearer/i.test(String(challenge ?? '')) ? 'token-required' : 'other';
  } catch {
    return 'other';
  }
}
