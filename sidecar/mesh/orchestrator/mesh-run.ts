import { EventEmitter } from 'node:events';
import { checkManifestPaths, type ResolvedManifest } from '../../../src/manifest/index.js';
import { runLog, scripts } from '../paths.js';
import { bootId, refOf, stopGroup } from '../process-refs.js';
import type { ProxyLocation } from '../proxy-url.js';
import { writeRunState, type InstanceState, type RunState, type ServiceState } from '../run-state.js';
import { classify, serviceVerdict, type ListedInstance, type Verdict } from './classify.js';
import { listInstances, sidecarHealth } from './observe.js';
import { planLaunches, type Launch } from './plan.js';
import { ensureProxy } from './proxy-launch.js';
import { logTail } from '../log-files.js';
import { describeEnd, spawnLogged, type LoggedProcess } from './spawn-logged.js';

export interface MeshRunOptions {
  manifest: ResolvedManifest;
  location: ProxyLocation;
  runDir: string;
  home: string;
  detached: boolean;
  /** How long an instance may take to become healthy before it is reported failed. */
  startTimeoutMs: number;
}

interface Tracked {
  launch: Launch;
  state: InstanceState;
  proc: LoggedProcess | undefined;
  startedAt: number;
  exited: { description: string; logTail: string } | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  backoffMs: number;
}

const SETTLING_POLL_MS = 250;
const RUNNING_POLL_MS = 2_000;
const SIDECAR_STOP_GRACE_MS = 10_000;

/**
 * One `mesh up`: starts the proxy if none answers, then every enabled service's processes; keeps
 * watching them (state file, restarts of processes that die) until `stop()`, which stops what it
 * started in order: sidecars (they deregister), their children's groups, then the proxy.
 * Emits `change` (the state) whenever a status changes and `settled` once no service is starting.
 */
export class MeshRun extends EventEmitter<{ change: [RunState]; settled: [RunState] }> {
  state: RunState;
  private tracked: Tracked[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** Aborted by stop(): a start() still waiting for the proxy or the manifest's paths spawns nothing more. */
  private readonly stopRequested = new AbortController();
  private lastWritten = '';

  constructor(private readonly options: MeshRunOptions) {
    super();
    const now = new Date().toISOString();
    this.state = {
      version: 1,
      manifest: options.manifest.source.file,
      bootId: bootId(),
      supervisor: refOf(process.pid),
      detached: options.detached,
      startedAt: now,
      updatedAt: now,
      phase: 'starting',
      proxy: { url: options.location.url, from: options.location.from, started: false },
      services: {},
    };
  }

  /** Starts the proxy (if needed) and every service; resolves once they are all spawned (or stop() was called). */
  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const { manifest } = this.options;
    const stopped = this.stopRequested.signal;
    this.save();
    try {
      const proxy = await ensureProxy(manifest, this.options.location, this.options.runDir, this.options.home, { signal: stopped });
      this.state.proxy = proxy.state;
      if (!stopped.aborted) this.save();
    } catch (error) {
      this.state.phase = 'failed';
      this.state.error = (error as Error).message;
      this.save();
      throw error;
    }
    if (stopped.aborted) return;
    const problems = new Map<string, string>();
    for (const problem of await checkManifestPaths(manifest)) problems.set(problem.service, `${problem.field}: ${problem.message}`);
    if (stopped.aborted) return;
    const launches = planLaunches(manifest, { proxyUrl: this.state.proxy.url, node: process.execPath, sidecarScript: scripts.sidecar, token: process.env.MESH_TOKEN });
    for (const launch of launches) {
      const name = launch.replica === 0 ? launch.service : `${launch.service}.${launch.replica}`;
      const state: InstanceState = { replica: launch.replica, log: runLog(this.options.runDir, name), status: 'pending', restarts: 0 };
      const tracked: Tracked = { launch, state, proc: undefined, startedAt: Date.now(), exited: undefined, restartTimer: undefined, backoffMs: 1_000 };
      this.tracked.push(tracked);
      const problem = problems.get(launch.service);
      if (problem !== undefined) Object.assign(state, { status: 'failed', reason: `not started: ${problem}` });
      else this.spawn(tracked);
    }
    this.refreshServices();
    this.save();
    this.schedule(0);
  }

  private spawn(tracked: Tracked): void {
    if (this.stopRequested.signal.aborted) return;
    const { launch, state } = tracked;
    const proc = spawnLogged(launch.command, launch.args, { log: state.log, cwd: launch.cwd, env: launch.env });
    tracked.proc = proc;
    tracked.startedAt = Date.now();
    tracked.exited = undefined;
    if (proc.pid !== undefined) state.process = refOf(proc.pid);
    if (state.status !== 'failed') state.status = 'starting';
    proc.then((result) => this.onExit(tracked, proc, describeEnd(result))).catch((error: unknown) => this.report('handling an exit', error));
  }

  // A process that died is started again with backoff (1 s doubling to 30 s), unless a native
  // instance's restart policy says otherwise; a sidecar restarts its own child.
  private onExit(tracked: Tracked, proc: LoggedProcess, description: string): void {
    if (tracked.proc !== proc || this.stopping !== undefined) return;
    const lived = Date.now() - tracked.startedAt;
    tracked.exited = { description, logTail: logTail(tracked.state.log) };
    tracked.proc = undefined;
    const service = this.options.manifest.services[tracked.launch.service];
    const policy = tracked.launch.kind === 'native' ? (service?.restart.policy ?? 'always') : 'always';
    const clean = description === 'exited with code 0';
    this.apply(tracked, classify({ exited: tracked.exited, elapsedMs: lived, timeoutMs: this.options.startTimeoutMs }));
    if (policy === 'never' || (policy === 'on-failure' && clean)) {
      tracked.state.reason = `${tracked.state.reason ?? ''} (not restarted: restart policy ${policy})`;
    } else {
      if (lived > 60_000) tracked.backoffMs = 1_000;
      const delay = tracked.backoffMs;
      tracked.backoffMs = Math.min(tracked.backoffMs * 2, 30_000);
      tracked.state.reason = `${tracked.state.reason ?? ''} (restarting in ${Math.round(delay / 1000)} s)`;
      tracked.restartTimer = setTimeout(() => {
        tracked.restartTimer = undefined;
        if (this.stopping !== undefined) return;
        tracked.state.restarts++;
        this.spawn(tracked);
      }, delay);
    }
    this.refreshServices();
    this.save();
  }

  private schedule(delayMs: number): void {
    if (this.stopping !== undefined) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.report('checking the services', error))
        .finally(() => this.schedule(this.state.phase === 'starting' ? SETTLING_POLL_MS : RUNNING_POLL_MS));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const listed = await listInstances(this.state.proxy.url);
    if (this.stopping !== undefined) return;
    await Promise.all(this.tracked.map((tracked) => this.observe(tracked, listed)));
    if (this.stopping !== undefined) return;
    this.refreshServices();
    if (this.state.phase === 'starting' && Object.values(this.state.services).every((s) => s.status !== 'starting' && s.status !== 'pending')) {
      this.state.phase = 'running';
      this.save();
      this.emit('settled', this.state);
    }
    this.save();
  }

  private async observe(tracked: Tracked, listed: Map<string, ListedInstance[]> | undefined): Promise<void> {
    const { launch, state } = tracked;
    if (tracked.proc === undefined || state.process === undefined) return;
    const pid = state.process.pid;
    const candidates = listed?.get(launch.service) ?? [];
    const instance = candidates.find((i) => i.pid === pid) ?? (launch.kind === 'native' && launch.replica === 0 && candidates.length === 1 ? candidates[0] : undefined);
    const health = instance !== undefined && launch.kind === 'sidecar' ? await sidecarHealth(instance.url) : undefined;
    if (instance !== undefined) Object.assign(state, { port: instance.port, url: instance.url });
    if (health?.pid !== undefined && health.pid !== state.child?.pid) state.child = refOf(health.pid);
    const verdict = classify({ listed: instance, health, elapsedMs: Date.now() - tracked.startedAt, timeoutMs: this.options.startTimeoutMs });
    // After a restart, keep showing the failure until the new process is healthy.
    if (verdict.status === 'starting' && state.restarts > 0 && state.status === 'failed') return;
    this.apply(tracked, verdict);
  }

  private apply(tracked: Tracked, verdict: Verdict): void {
    const { state } = tracked;
    state.status = verdict.status;
    if (verdict.reason === undefined) delete state.reason;
    else state.reason = verdict.reason;
    if (verdict.tools !== undefined) state.tools = verdict.tools;
    if (verdict.status === 'healthy') tracked.backoffMs = 1_000;
  }

  private refreshServices(): void {
    const services: Record<string, ServiceState> = {};
    for (const tracked of this.tracked) {
      const name = tracked.launch.service;
      services[name] ??= { kind: tracked.launch.kind, status: 'pending', instances: [] };
      services[name].instances.push(tracked.state);
    }
    for (const service of Object.values(services)) {
      const verdict = serviceVerdict(service.instances.map((i) => ({ status: i.status, ...(i.reason === undefined ? {} : { reason: i.reason }), ...(i.tools === undefined ? {} : { tools: i.tools }) })));
      service.status = verdict.status;
      if (verdict.reason !== undefined) service.reason = verdict.reason;
      if (verdict.tools !== undefined) service.tools = verdict.tools;
    }
    this.state.services = services;
  }

  private save(): void {
    const text = JSON.stringify({ ...this.state, updatedAt: '' });
    if (text === this.lastWritten) return;
    try {
      writeRunState(this.options.runDir, this.state);
      this.lastWritten = text;
    } catch (error) {
      // Not written: the next save tries again; stopping must go on whatever the disk says.
      this.report('writing the state file', error);
    }
    this.emit('change', this.state);
  }

  // An error while handling an exit, a tick or the state file (disk full, folder removed) must not
  // end the supervisor and orphan the process groups it owns: it is reported and supervision goes on.
  private report(what: string, error: unknown): void {
    process.stderr.write(`mesh: error while ${what}: ${(error as Error).message ?? String(error)}\n`);
  }

  /**
   * Stops every process this run started (sidecars first, then the proxy if it started it). Called
   * while start() is still under way, it waits for start() to return (which then spawns nothing
   * more) so that a proxy it was launching is stopped too.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopRequested.abort();
      await this.starting?.catch(() => undefined);
      if (this.timer) clearTimeout(this.timer);
      this.state.phase = 'stopping';
      this.save();
      await Promise.all(this.tracked.map((tracked) => this.stopInstance(tracked)));
      if (this.state.proxy.started && this.state.proxy.process) await stopGroup(this.state.proxy.process, SIDECAR_STOP_GRACE_MS);
      this.state.phase = 'stopped';
      this.refreshServices();
      this.save();
    })();
    return this.stopping;
  }

  private async stopInstance(tracked: Tracked): Promise<void> {
    if (tracked.restartTimer) clearTimeout(tracked.restartTimer);
    const { state } = tracked;
    if (state.process) await stopGroup(state.process, SIDECAR_STOP_GRACE_MS);
    // A sidecar stops its child's group itself; this catches a child left by a sidecar that was killed.
    if (state.child) await stopGroup(state.child, 2_000);
    state.status = 'stopped';
    delete state.reason;
  }
}
