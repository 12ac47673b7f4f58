import { globalAgent } from 'node:https';
import { Agent, setGlobalDispatcher } from 'undici';
import { readCa } from '../../src/http/tls-trust.js';

/**
 * Makes every request of this `mesh` process (its probes of the proxy and of the sidecars it
 * started: fetch, and node:https for the supervisor's polling) verify https peers against `caFile`
 * besides the system store: MESH_CA, or the manifest's `proxy.ca`. A CLI process sets it once;
 * library code passes its CA explicitly.
 * @example trustCaGlobally(process.env.MESH_CA)
 */
export function trustCaGlobally(caFile: string | undefined): void {
  const ca = readCa(caFile, 'MESH_CA / proxy.ca');
  if (ca === undefined) return;
  setGlobalDispatcher(new Agent({ connect: { ca } }));
  globalAgent.options.ca = ca;
}
