import { MeshError } from '../../src/errors.js';
import type { ProxyLocation } from './proxy-url.js';

/** Exit codes of `mesh`: 1 a failure (a tool error, a service that failed), 2 a mesh or usage error. */
export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

/** An error the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

// The client's ProxyUnreachable names the URL; the CLI adds where that URL came from.
/** A message for an error, naming the proxy URL's origin when the proxy could not be reached. */
export function describeError(error: unknown, proxy?: ProxyLocation): string {
  if (error instanceof MeshError && error.code === 'PROXY_UNREACHABLE' && proxy !== undefined) {
    const code = typeof error.context.systemCode === 'string' ? ` (${error.context.systemCode})` : '';
    return `cannot reach the mesh-proxy at ${proxy.url}${code}; that URL came from ${proxy.from}. Start the mesh with \`mesh up FILE\`, or point --proxy URL, -f FILE or MESH_PROXY_URL at a running proxy.`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The exit code for an error: CliError's own, else 2. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.error;
}
