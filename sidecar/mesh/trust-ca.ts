import { Agent, setGlobalDispatcher } from 'undici';
import { readCa } from '../../src/http/tls-trust.js';

/**
 * Makes every fetch of this `mesh` process (its probes of the proxy and of the sidecars it started)
 * verify https peers against `caFile` besides the system store: MESH_CA, or the manifest's
 * `proxy.ca`. A CLI process sets it once; library code passes its CA explicitly.
 * @example trustCaGlobally(process.env.MESH_CA)
 */
export function trustCaGlobally(caFile: string | undefined): void {
  const ca = readCa(caFile, 'MESH_CA / proxy.ca');
  if (ca !== undefined) setGlobalDispatcher(new Agent({ connect: { ca } }));
}
