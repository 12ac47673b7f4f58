import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { MeshError } from '../../../src/errors.js';
import type { ResolvedManifest } from '../../../src/manifest/index.js';
import { diffLaunches, type ServiceChange } from './apply-plan.js';
import { runLog, scripts } from '../paths.js';
import { bootId, refOf, stopGroup } from '../process-refs.js';
import type { ProxyLocation } from '../proxy-url.js';
import { writeRunState, type InstanceState, type RunState } from '../run-state.js';
import { classify } from './classify.js';
import { applyVerdict, observeInstance, servicesOf, type Tracked } from './instance-status.js';
import { listInstances } from './observe.js';
import { restartSidecarChild } from './sidecar-control.js';
import { launchProblems, planLaunches, type Launch } from './plan.js';
import { ProxyKeeper } from './proxy-keeper.js';
import { hasProxyConfig, pushViews } from './push-views.js';
import { logTail } from '../log-files.js';
import { describeEnd, spawnLogged, type LoggedProcess } from './spawn-logged.js';
import { DEFAULT_DRAIN_MS } from '../../../src/http/drain.js';
import { HostKeeper } from './host-keeper.js';
import { leanNodeFlags } from './node-flags.js';
import { applyHostStatus, hostedService, hostKey, onHostExit, onHostSpawn } from './hosted-instances.js';
import { join } from 'node:path';

export interface MeshRunOptions {
  manifest: ResolvedManifest;
  location: ProxyLocation;
  runDir: string;
  home: string;
  detached: boolean;
  /** How long an instance may take to become healthy before it is reported failed. */
  startTimeoutMs: number;
}

const SETTLING_POLL_MS = 250;
const RUNNING_POLL_MS = 2_000;
// Time to drain (calls in flight finish, up to the default drain timeout) before SIGKILL.
const SIDECAR_STOP_GRACE_MS = DEFAULT_DRAIN_MS + 5_000;

/**
 * One `mesh up`: starts the proxy if none answers, then every enabled service's processes; keeps
 * watching them (state file, restarts of processes that die, the proxy's too) until `stop()`, which
 * stops what it started in order: sidecars (they deregister), their children's groups, then the
 * proxy unless another run still uses it. Meanwhile applyManifest() and restartService() change it.
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
  private readonly proxy: ProxyKeeper;
  private manifest: ResolvedManifest;
  /** Given to the sidecars this run starts, for POST /control/restart. */
  private readonly controlToken = randomBytes(24).toString('hex');
  /** The last apply or restart: they run one at a time. */
  private changes: Promise<unknown> = Promise.resolve();
  /** The one process running every sidecar not marked `isolate`. */
  private readonly host: HostKeeper;
  /** Set once the proxy was found or started: sidecars may start before. */
  private proxyKnown = false;

  constructor(private readonly options: MeshRunOptions) {
    super();
    const now = new Date().toISOString();
    this.proxy = new ProxyKeeper({ ...options, supervisor: refOf(process.pid) });
    this.manifest = options.manifest;
    this.host = new HostKeeper({
      dir: join(options.runDir, 'host'),
      log: runLog(options.runDir, 'sidecar-host'),
      node: process.execPath,
      hostScript: scripts.host,
      controlToken: this.controlToken,
      nodeFlags: leanNodeFlags(),
    });
    this.host.on('spawn', (proc, ref) => {
      onHostSpawn(this.tracked, proc, ref, (key) => this.host.has(key));
      this.refreshServices();
      // Shown once the proxy's start is known (the display names the proxy with the first state).
      if (this.proxyKnown) this.save();
    });
    this.host.on('exit', (description, delayMs) => {
      process.stderr.write(`mesh: the sidecar host ${description}; starting it again in ${Math.round(delayMs / 1000)} s\n`);
      onHostExit(this.tracked, description, delayMs, (key, port) => this.host.prefer(key, port))
        .catch((error: unknown) => this.report('stopping the servers of the sidecar host', error))
        .finally(() => {
          this.refreshServices();
          this.save();
        });
    });
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
    const { manifest } = this;
    const stopped = this.stopRequested.signal;
    this.save();
    // Sidecars start while the proxy does (they retry their registration until it answers); native
    // instances, which may call the mesh as they start, wait for it.
    const launches = this.plan(manifest);
    const proxyStart = this.proxy.start(stopped);
    proxyStart.catch(() => undefined);
    const problems = await launchProblems(manifest);
    const early = stopped.aborted ? [] : launches.filter((launch) => launch.kind === 'sidecar');
    for (const launch of early) this.track(launch, problems);
    try {
      this.state.proxy = await proxyStart;
      this.proxyKnown = true;
      if (!stopped.aborted) this.save();
    } catch (error) {
      this.state.phase = 'failed';
      this.state.error = (error as Error).message;
      this.save();
      throw error;
    }
    if (stopped.aborted) return;
    // A proxy this run started read the views and remotes from the manifest (--manifest); one already running is told them.
    if (!this.state.proxy.started && hasProxyConfig(manifest)) this.warn(await pushViews(this.state.proxy.url, manifest));
    for (const launch of launches) if (!early.includes(launch)) this.track(launch, problems);
    // In manifest order, whichever started first.
    this.tracked.sort((a, b) => launches.indexOf(a.launch) - launches.indexOf(b.launch));
    this.refreshServices();
    this.save();
    this.schedule(0);
  }

  private plan(manifest: ResolvedManifest): Launch[] {
    // Every proxy of the mesh when the manifest names several: registration fails over in order.
    return planLaunches(manifest, {
      proxyUrl: this.options.location.all ?? this.state.proxy.url,
      node: process.execPath,
      sidecarScript: scripts.sidecar,
      token: process.env.MESH_TOKEN,
      controlToken: this.controlToken,
    });
  }

  // A service whose paths are missing is shown failed with the reason, not started.
  private track(launch: Launch, problems: Map<string, string>): void {
    const name = launch.replica === 0 ? launch.service : `${launch.service}.${launch.replica}`;
    const state: InstanceState = { replica: launch.replica, log: runLog(this.options.runDir, name), status: 'pending', restarts: 0 };
    const tracked: Tracked = { launch, state, proc: undefined, startedAt: Date.now(), exited: undefined, restartTimer: undefined, backoffMs: 1_000 };
    this.tracked.push(tracked);
    const problem = problems.get(launch.service);
    if (problem !== undefined) Object.assign(state, { status: 'failed', reason: `not started: ${problem}` });
    else this.spawn(tracked);
  }

  /**
   * Applies a changed manifest (a second `mesh up`): starts new services, stops removed ones,
   * restarts changed ones and leaves the rest running. One change at a time.
   */
  applyManifest(manifest: ResolvedManifest): Promise<Map<string, ServiceChange>> {
    const run = this.changes.then(() => this.applyNow(manifest));
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async applyNow(manifest: ResolvedManifest): Promise<Map<string, ServiceChange>> {
    if (this.stopping !== undefined) throw new MeshError('SERVICE_UNAVAILABLE', 'the mesh is stopping');
    const next = this.plan(manifest);
    const changes = diffLaunches(
      this.tracked.map((t) => t.launch),
      next,
    );
    // Like `docker compose up`, an unchanged service that is not running (not started for a missing
    // path, or left down by its restart policy) is started again.
    for (const t of this.tracked) if (changes.get(t.launch.service) === 'unchanged' && t.proc === undefined && t.restartTimer === undefined) changes.set(t.launch.service, 'restarted');
    const problems = await launchProblems(manifest);
    const replaced = (name: string) => changes.get(name) === 'stopped' || changes.get(name) === 'restarted';
    await Promise.all(this.tracked.filter((t) => replaced(t.launch.service)).map((t) => this.stopInstance(t)));
    const kept = new Map(this.tracked.filter((t) => !replaced(t.launch.service)).map((t) => [`${t.launch.service}#${t.launch.replica}`, t]));
    this.tracked = [];
    this.manifest = manifest;
    for (const launch of next) {
      const running = kept.get(`${launch.service}#${launch.replica}`);
      if (running !== undefined) this.tracked.push(running);
      else this.track(launch, problems);
    }
    this.state.phase = 'starting';
    this.refreshServices();
    this.save();
    this.warn(await pushViews(this.state.proxy.url, manifest));
    return changes;
  }

  private warn(problem: string | undefined): void {
    if (problem !== undefined) process.stderr.write(`mesh: ${problem}\n`);
  }

  /**
   * Restarts one service's processes: a sidecar replaces its child in place (POST /control/restart),
   * so the instance stays registered as `restarting`; a native instance is stopped and started again.
   */
  restartService(service: string): Promise<{ replica: number; pid: number | undefined }[]> {
    const run = this.changes.then(() => this.restartNow(service));
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async restartNow(service: string): Promise<{ replica: number; pid: number | undefined }[]> {
    const instances = this.tracked.filter((t) => t.launch.service === service);
    if (instances.length === 0)
      throw new MeshError(
        'SERVICE_NOT_FOUND',
        `the mesh of ${this.manifest.source.file} has no service "${service}" (it runs: ${[...new Set(this.tracked.map((t) => t.launch.service))].join(', ') || 'none'})`,
      );
    // One replica at a time: the others keep serving meanwhile.
    const restarted: { replica: number; pid: number | undefined }[] = [];
    for (const tracked of instances) restarted.push(await this.restartInstance(tracked));
    this.refreshServices();
    this.save();
    return restarted;
  }

  private async restartInstance(tracked: Tracked): Promise<{ replica: number; pid: number | undefined }> {
    // A sidecar not serving yet (no URL) or between its own restarts is simply started again.
    if (tracked.launch.kind === 'sidecar' && tracked.proc !== undefined && tracked.state.url !== undefined) {
      const answer = await restartSidecarChild(tracked.state.url, this.controlToken);
      if (answer.pid !== undefined) tracked.state.child = refOf(answer.pid);
      tracked.state.restarts++;
      return { replica: tracked.launch.replica, pid: answer.pid };
    }
    await this.stopInstance(tracked);
    tracked.state.restarts++;
    tracked.state.status = 'starting';
    this.spawn(tracked);
    return { replica: tracked.launch.replica, pid: tracked.proc?.pid };
  }

  private spawn(tracked: Tracked): void {
    if (this.stopRequested.signal.aborted) return;
    const { launch, state } = tracked;
    if (launch.hosted !== undefined) return this.spawnHosted(tracked);
    const proc = spawnLogged(launch.command, launch.args, { log: state.log, cwd: launch.cwd, env: launch.env });
    tracked.proc = proc;
    tracked.startedAt = Date.now();
    tracked.exited = undefined;
    if (proc.pid !== undefined) state.process = refOf(proc.pid);
    if (state.status !== 'failed') state.status = 'starting';
    proc.then((result) => this.onExit(tracked, proc, describeEnd(result))).catch((error: unknown) => this.report('handling an exit', error));
  }

  // A hosted sidecar starts in the running host (through its control API) or with the host.
  private spawnHosted(tracked: Tracked): void {
    const { state } = tracked;
    tracked.startedAt = Date.now();
    tracked.exited = undefined;
    tracked.proc = this.host.process;
    if (this.host.ref !== undefined && tracked.proc !== undefined) state.process = this.host.ref;
    if (state.status !== 'failed') state.status = 'starting';
    this.host.set(hostedService(tracked)).catch((error: unknown) => this.report(`starting ${hostKey(tracked)} in the sidecar host`, error));
  }

  // A process that died is started again with backoff (1 s doubling to 30 s), unless a native
  // instance's restart policy says otherwise; a sidecar restarts its own child.
  private onExit(tracked: Tracked, proc: LoggedProcess, description: string): void {
    if (tracked.proc !== proc || this.stopping !== undefined) return;
    const lived = Date.now() - tracked.startedAt;
    tracked.exited = { description, logTail: logTail(tracked.state.log) };
    tracked.proc = undefined;
    const service = this.manifest.services[tracked.launch.service];
    const policy = tracked.launch.kind === 'native' ? (service?.restart.policy ?? 'always') : 'always';
    const clean = description === 'exited with code 0';
    applyVerdict(tracked, classify({ exited: tracked.exited, elapsedMs: lived, timeoutMs: this.options.startTimeoutMs }));
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
    const restarts = this.proxy.state.restarts ?? 0;
    if (await this.proxy.check(this.stopRequested.signal)) {
      this.state.proxy = this.proxy.state;
      if ((this.state.proxy.restarts ?? 0) > restarts)
        process.stderr.write(`mesh: the mesh-proxy at ${this.state.proxy.url} had died; started it again (pid ${this.state.proxy.process?.pid ?? '?'})\n`);
      this.save();
    }
    const listed = await listInstances(this.state.proxy.url);
    if (this.stopping !== undefined) return;
    if (this.tracked.some((t) => t.launch.hosted !== undefined)) applyHostStatus(this.tracked, await this.host.status());
    await Promise.all(this.tracked.map((tracked) => observeInstance(tracked, listed, this.options.startTimeoutMs)));
    if (this.stopping !== undefined) return;
    this.refreshServices();
    if (this.state.phase === 'starting' && Object.values(this.state.services).every((s) => s.status !== 'starting' && s.status !== 'pending')) {
      this.state.phase = 'running';
      this.save();
      this.emit('settled', this.state);
    }
    this.save();
  }

  private refreshServices(): void {
    this.state.services = servicesOf(this.tracked);
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
      await this.host.stop(SIDECAR_STOP_GRACE_MS);
      await this.proxy.release();
      this.state.phase = 'stopped';
      this.refreshServices();
      this.save();
    })();
    return this.stopping;
  }

  private async stopInstance(tracked: Tracked): Promise<void> {
    if (tracked.restartTimer) clearTimeout(tracked.restartTimer);
    // Its exit is expected: onExit must not start it again.
    tracked.proc = undefined;
    const { state } = tracked;
    // The host's process group holds other services: only this one is stopped in it.
    if (tracked.launch.hosted !== undefined) await this.host.remove(hostKey(tracked), SIDECAR_STOP_GRACE_MS);
    else if (state.process) await stopGroup(state.process, SIDECAR_STOP_GRACE_MS);
    // A sidecar stops its child's group itself; this catches a child left by a sidecar that was killed.
    if (state.child) await stopGroup(state.child, 2_000);
    state.status = 'stopped';
    delete state.reason;
  }
}
