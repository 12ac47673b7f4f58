import { REMOTE_ID_PREFIX, type RemoteService, type RemotesAnswer } from '../../src/contract/remotes.js';
import type { Logger } from '../../src/log.js';
import type { MeshCore } from '../core.js';

interface Remote {
  name: string;
  config: RemoteService;
  /** The lease of its registration (the proxy re-registers it with it). */
  lease?: string | undefined;
  lastCheck?: string;
  healthy?: boolean;
  lastError?: string | undefined;
  /** The check in flight: one at a time per remote (a slow server never piles up contacts). */
  checking?: Promise<void> | undefined;
}

/** The instance id of remote server `name`: one per service (a remote server has no replicas here). */
export const remoteInstanceId = (name: string) => `${REMOTE_ID_PREFIX}${name}`;

/**
 * The remote Streamable HTTP servers of the proxy's configuration (manifest services with `url:`):
 * each is registered by URL (the loopback rule waived for it alone) with its headers, which go on
 * every hop to it instead of the mesh token. Every `intervalMs` it is listed again: an answer counts
 * as its heartbeat (and picks up a changed tool list), silence lets the registry mark it unhealthy
 * as it would a silent sidecar. Its headers are never logged, stored or shown: what is said about
 * a failure is the proxy's own words and the URL.
 */
export class RemoteServices {
  private readonly remotes = new Map<string, Remote>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly core: MeshCore,
    private readonly log: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.checkAll(), intervalMs);
    this.timer.unref();
  }

  /** Replaces the remote servers: removed ones are deregistered, new and changed ones checked at once (in the background). */
  set(remotes: Record<string, RemoteService>): void {
    for (const [name, remote] of this.remotes) {
      if (name in remotes) continue;
      this.remotes.delete(name);
      this.core.registry.deregister(remoteInstanceId(name), { operator: 'mesh-proxy' });
      this.log.info(`remote service "${name}" removed (${remote.config.url})`);
    }
    for (const [name, config] of Object.entries(remotes)) {
      const known = this.remotes.get(name);
      if (known && JSON.stringify(known.config) === JSON.stringify(config)) continue;
      const remote: Remote = { name, config, lease: known?.config.url === config.url ? known.lease : undefined };
      this.remotes.set(name, remote);
      void this.check(remote);
    }
  }

  /** The remote servers as GET /v1/remotes shows them: URL, header count and last check, never a header. */
  describe(): RemotesAnswer['remotes'] {
    return [...this.remotes.values()].map(({ name, config, lastCheck, healthy, lastError }) => ({
      name,
      url: config.url,
      headerCount: Object.keys(config.headers).length,
      ...(lastCheck !== undefined && { lastCheck }),
      ...(healthy !== undefined && { healthy }),
      ...(lastError !== undefined && { lastError }),
    }));
  }

  private async checkAll(): Promise<void> {
    await Promise.all([...this.remotes.values()].map((remote) => this.check(remote)));
  }

  private check(remote: Remote): Promise<void> {
    remote.checking ??= this.checkOnce(remote).finally(() => (remote.checking = undefined));
    return remote.checking;
  }

  // One check: list its tools again (registering it anew if the registry let it go).
  private async checkOnce(remote: Remote): Promise<void> {
    if (this.closed) return;
    const { name, config } = remote;
    const input = { name, url: config.url, tags: config.tags, id: remoteInstanceId(name), headers: config.headers, remote: true };
    try {
      const registered = this.core.registry.hasInstance(input.id);
      // A registration without our lease (a row kept by an earlier run of this proxy) is ours to replace.
      if (registered && remote.lease === undefined) this.core.registry.deregister(input.id, { operator: 'mesh-proxy' });
      const answer = await this.core.registerByUrl({ ...input, lease: registered ? remote.lease : undefined });
      if (this.remotes.get(name) !== remote) return;
      if (remote.healthy === false) this.log.info(`remote service "${name}" answers again (${config.url})`);
      Object.assign(remote, { lease: answer.lease, healthy: true, lastError: undefined, lastCheck: new Date().toISOString() });
    } catch (error) {
      if (this.remotes.get(name) !== remote) return;
      const message = (error as Error).message;
      if (remote.healthy !== false || remote.lastError !== message) this.log.warn(`remote service "${name}": ${message}`);
      Object.assign(remote, { healthy: false, lastError: message, lastCheck: new Date().toISOString() });
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
