import { basename } from 'node:path';
import type { ResolvedManifest } from '../../../src/manifest/index.js';
import { stopGroup } from '../process-refs.js';
import { addProxyUser, forgetProxy, liveProxy, liveProxyUsers, proxyPort, recordProxy, removeProxyUser, type ProxyUser } from '../proxy-users.js';
import { isRemoteProxy, type ProxyLocation } from '../proxy-url.js';
import type { ProcessRef, RunState } from '../run-state.js';
import { ensureProxy } from './proxy-launch.js';
import { DEFAULT_DRAIN_MS } from '../../../src/http/drain.js';

export interface ProxyKeeperOptions {
  manifest: ResolvedManifest;
  location: ProxyLocation;
  runDir: string;
  home: string;
  /** The `mesh up` process this keeper runs in. */
  supervisor: ProcessRef;
}

// Time to drain (calls in flight finish, up to the default drain timeout) before SIGKILL.
const PROXY_STOP_GRACE_MS = DEFAULT_DRAIN_MS + 5_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * The proxy side of a run: uses the proxy answering at the URL or starts one, shares a proxy
 * `mesh up` started with every run on its port, starts it again (backoff 1 s doubling to 30 s)
 * when it dies, and stops it when the last run using it leaves.
 */
export class ProxyKeeper {
  state: RunState['proxy'];
  private readonly port: number;
  private backoffMs = 1_000;
  private nextAttemptAt = 0;
  private lastStartAt = Date.now();

  constructor(private readonly options: ProxyKeeperOptions) {
    this.state = { url: options.location.url, from: options.location.from, started: false };
    this.port = proxyPort(options.location.url);
  }

  /** Finds or starts the proxy; joins its users when `mesh up` manages it. */
  async start(signal: AbortSignal): Promise<RunState['proxy']> {
    const { manifest, location, runDir, home } = this.options;
    // A proxy on another machine (the manifest's proxy.url): never started here; the services register there.
    if (location.source === 'manifest' && manifest.proxy.url !== undefined && isRemoteProxy(location.url)) return this.state;
    const found = await ensureProxy(manifest, location, runDir, home, { signal });
    this.state = found.state;
    if (found.state.started && found.state.process) {
      // The proxy outlives this run when another run still uses it: it must not hold this process open.
      found.proc?.unref();
      recordProxy(this.port, { url: location.url, process: found.state.process, log: found.state.log ?? '', startedBy: basename(runDir) });
    } else {
      const record = liveProxy(this.port);
      if (record !== undefined) this.state = { ...this.state, started: true, joined: true, process: record.process, log: record.log };
    }
    if (this.state.started) addProxyUser(this.port, runDir, manifest.source.file, this.options.supervisor);
    return this.state;
  }

  /**
   * Called on every check of the run: a managed proxy whose process died is started again by the
   * oldest run using it (one restarter, no race for the port). Returns true when the state changed.
   */
  async check(signal: AbortSignal): Promise<boolean> {
    if (!this.state.started) return false;
    const record = liveProxy(this.port);
    if (record !== undefined) {
      if (Date.now() - this.lastStartAt > 60_000) this.backoffMs = 1_000;
      if (record.process.pid === this.state.process?.pid) return false;
      this.state = { ...this.state, process: record.process, log: record.log };
      return true;
    }
    const restarter = liveProxyUsers(this.port)[0];
    if (restarter !== undefined && restarter.run !== basename(this.options.runDir)) return false;
    if (Date.now() < this.nextAttemptAt || signal.aborted) return false;
    this.nextAttemptAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.lastStartAt = Date.now();
    const { manifest, location, runDir, home } = this.options;
    const again = await ensureProxy(manifest, location, runDir, home, { signal });
    if (again.state.started && again.state.process) {
      again.proc?.unref();
      recordProxy(this.port, { url: location.url, process: again.state.process, log: again.state.log ?? '', startedBy: basename(runDir) });
      this.state = { ...this.state, process: again.state.process, restarts: (this.state.restarts ?? 0) + 1 };
      if (!this.state.joined) addProxyUser(this.port, runDir, manifest.source.file, this.options.supervisor);
    }
    return true;
  }

  /** Leaves the proxy: stops it when no other live run uses it; else names the runs that keep it. */
  release(): Promise<ProxyRelease> {
    return releaseProxy(this.state, this.options.runDir);
  }
}

export type ProxyRelease = { stopped: boolean; keptFor: ProxyUser[] };

/**
 * Removes the run in `runDir` from the users of its managed proxy and stops the proxy when no other
 * live run uses it (also used by `mesh down` after a supervisor that was killed).
 * @example const { stopped, keptFor } = await releaseProxy(state.proxy, runDir)
 */
export async function releaseProxy(proxy: RunState['proxy'], runDir: string): Promise<ProxyRelease> {
  if (!proxy.started) return { stopped: false, keptFor: [] };
  const port = proxyPort(proxy.url);
  removeProxyUser(port, runDir);
  const others = liveProxyUsers(port);
  if (others.length > 0) return { stopped: false, keptFor: others };
  const record = liveProxy(port);
  const target = record?.process ?? proxy.process;
  if (target !== undefined) await stopGroup(target, PROXY_STOP_GRACE_MS);
  forgetProxy(port);
  return { stopped: target !== undefined, keptFor: [] };
}
