import { Option, type Command } from 'commander';
import { MeshClient } from '../../src/client/index.js';
import { MeshError } from '../../src/errors.js';
import { loadManifest, type ResolvedManifest } from '../../src/manifest/index.js';
import { CliError, describeError, EXIT } from './errors.js';
import { resolveProxy, type ProxyLocation } from './proxy-url.js';
import { trustCaGlobally } from './trust-ca.js';

/** Options every proxy-facing command takes. */
export interface ProxyOptions {
  proxy?: string;
  file?: string;
  json?: boolean;
}

/** Adds `--proxy URL`, `-f FILE` and `--json` to a command. */
export function withProxyOptions(command: Command, json = true): Command {
  command
    .addOption(new Option('--proxy <url>', "mesh-proxy URL (default: -f FILE's proxy section, else MESH_PROXY_URL, else http://127.0.0.1:6001)"))
    .option('-f, --file <file>', 'manifest whose proxy section names the proxy');
  if (json) command.option('--json', 'print JSON (for scripts)');
  return command;
}

/**
 * Loads a manifest, turning validation errors into one CLI error (exit 1) listing `file:line: field: message`.
 * @example const manifest = await readManifest('configs/demo.yaml')
 */
export async function readManifest(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<ResolvedManifest> {
  try {
    const manifest = await loadManifest(file, env);
    // The manifest's CA (a proxy or instances over HTTPS) is trusted by this process's probes too.
    if (manifest.proxy.ca !== undefined) trustCaGlobally(manifest.proxy.ca);
    return manifest;
  } catch (error) {
    if (error instanceof MeshError && error.code === 'MANIFEST_INVALID') throw new CliError(error.message, EXIT.failed);
    throw error;
  }
}

/** Where the proxy is for these options (loads -f FILE when given). */
export async function locateProxy(options: ProxyOptions): Promise<{ location: ProxyLocation; manifest: ResolvedManifest | undefined }> {
  const manifest = options.proxy === undefined && options.file !== undefined ? await readManifest(options.file) : undefined;
  const location = resolveProxy({ flag: options.proxy, manifest: manifest && { file: options.file ?? '', proxy: manifest.proxy } });
  return { location, manifest };
}

/**
 * Runs `work` with a MeshClient for the located proxy; errors come back naming the proxy URL and its origin.
 * @example await withClient(opts, async (mesh) => mesh.services())
 */
export async function withClient<T>(options: ProxyOptions, work: (mesh: MeshClient, location: ProxyLocation, manifest: ResolvedManifest | undefined) => Promise<T>): Promise<T> {
  const { location, manifest } = await locateProxy(options);
  // Every proxy of the mesh when several are named: a request that never reached one goes to the next.
  const mesh = new MeshClient({ proxyUrl: location.all?.split(',') ?? location.url, caller: 'mesh-cli' });
  try {
    return await work(mesh, location, manifest);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof MeshError && error.code !== 'TOOL_ERROR') throw new CliError(describeError(error, location));
    throw error;
  } finally {
    await mesh.close();
  }
}
