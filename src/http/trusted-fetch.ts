import type { Dispatcher } from 'undici';

// Node's fetch trusts the system store only; a mesh CA needs an undici Agent as its dispatcher.
// undici is loaded on first use, only when a CA is given (the client entry stays light otherwise).
let agents: WeakMap<readonly string[], Promise<Dispatcher>> | undefined;

function agentFor(ca: readonly string[]): Promise<Dispatcher> {
  agents ??= new WeakMap();
  let agent = agents.get(ca);
  if (!agent) {
    agent = import('undici').then(({ Agent }) => new Agent({ connect: { ca: [...ca] } }));
    agents.set(ca, agent);
  }
  return agent;
}

/**
 * A fetch that verifies HTTPS peers against `ca` (from readCa: the system store plus the mesh's
 * CA); the global fetch when `ca` is undefined.
 * @example const get = trustedFetch(readCa(process.env.MESH_CA)); await get('https://10.0.0.2:6001/healthz')
 */
export function trustedFetch(ca: readonly string[] | undefined, base: typeof fetch = globalThis.fetch): typeof fetch {
  if (ca === undefined) return base;
  return async (input, init) => base(input, { ...init, dispatcher: await agentFor(ca) } as unknown as RequestInit);
}
