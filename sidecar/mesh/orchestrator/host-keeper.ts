import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { HostedService, HostedStatus, HostSpec } from '../../host/host-spec.js';
import { refOf, stopGroup } from '../process-refs.js';
import type { ProcessRef } from '../run-state.js';
import { HostClient } from './host-client.js';
import { describeEnd, spawnLogged, type LoggedProcess } from './spawn-logged.js';

export interface HostKeeperOptions {
  /** `<runDir>/host`: the spec file (0600: it holds the control token) and the host's control file. */
  dir: string;
  log: string;
  node: string;
  hostScript: string;
  controlToken: string;
  /** V8 flags of the host process (e.g. --max-semi-space-size=1). */
  nodeFlags?: readonly string[];
}

const MAX_BACKOFF_MS = 30_000;

/**
 * The one sidecar host process of a `mesh up` run: started when a first service is set, given the
 * current services in its spec file (so a host started again brings back every service), changed
 * through its control API, and started again with backoff (1 s doubling to 30 s) when it dies.
 * Emits `spawn` (proc, ref) and `exit` (description, delay before the next start, the dead host).
 */
export class HostKeeper extends EventEmitter<{ spawn: [LoggedProcess, ProcessRef]; exit: [string, number, ProcessRef | undefined] }> {
  private readonly services = new Map<string, HostedService>();
  private proc: LoggedProcess | undefined;
  private client: HostClient | undefined;
  /** What the running host read from its spec file: those need no POST. */
  private spawnedWith = new Map<string, HostedService>();
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 1_000;
  private stopped = false;
  restarts = 0;
  ref: ProcessRef | undefined;

  constructor(private readonly options: HostKeeperOptions) {
    super();
  }

  /** The next host starts the service of `key` on `port` if it is free (else the next free one after it). */
  prefer(key: string, port: number): void {
    const service = this.services.get(key);
    if (service === undefined || service.sidecar.port !== undefined) return;
    const { portRange } = service.sidecar;
    if (port < portRange.from || port > portRange.to) return;
    this.services.set(key, { ...service, sidecar: { ...service.sidecar, portRange: { from: port, to: portRange.to } } });
  }

  /** Whether the host runs (or will run) the service of `key`. */
  has(key: string): boolean {
    return this.services.has(key);
  }

  /** The running host process, if any. */
  get process(): LoggedProcess | undefined {
    return this.proc;
  }

  private get specFile(): string {
    return join(this.options.dir, 'spec.json');
  }

  private get controlFile(): string {
    return join(this.options.dir, 'control.json');
  }

  private writeSpec(): void {
    mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    const spec: HostSpec = { controlToken: this.options.controlToken, controlFile: this.controlFile, services: [...this.services.values()] };
    const temp = `${this.specFile}.tmp`;
    writeFileSync(temp, JSON.stringify(spec), { mode: 0o600 });
    renameSync(temp, this.specFile);
  }

  /** Runs `service` in the host: started with the host if it is not running yet, else added through its control API. */
  async set(service: HostedService): Promise<void> {
    this.services.set(service.key, service);
    this.writeSpec();
    if (this.proc === undefined) {
      // Services set in the same tick start with the host, from one spec file.
      if (this.timer === undefined && !this.stopped) this.timer = setTimeout(() => this.spawn(), 0);
      return;
    }
    if (this.spawnedWith.get(service.key) === service) return;
    await this.client?.add(service);
  }

  /** Stops one service of the host (deregistered, drained, its child's group stopped). */
  async remove(key: string, timeoutMs: number): Promise<void> {
    if (!this.services.delete(key)) return;
    this.spawnedWith.delete(key);
    this.writeSpec();
    if (this.proc !== undefined) await this.client?.remove(key, timeoutMs).catch(() => undefined);
  }

  /** The host's own view of its services (URL, child pid); undefined while it does not answer. */
  async status(): Promise<HostedStatus[] | undefined> {
    return this.proc === undefined ? undefined : this.client?.list();
  }

  private spawn(): void {
    this.timer = undefined;
    if (this.stopped || this.proc !== undefined) return;
    rmSync(this.controlFile, { force: true });
    this.writeSpec();
    this.spawnedWith = new Map(this.services);
    const proc = spawnLogged(this.options.node, [...(this.options.nodeFlags ?? []), this.options.hostScript, '--spec', this.specFile], { log: this.options.log });
    const startedAt = Date.now();
    this.proc = proc;
    if (proc.pid === undefined) {
      proc.then((result) => this.onExit(proc, describeEnd(result), startedAt)).catch(() => undefined);
      return;
    }
    this.ref = refOf(proc.pid);
    this.client = new HostClient(this.controlFile, this.options.controlToken, proc.pid);
    // Set while the host started: the spec file it read may have missed them.
    for (const service of this.services.values()) if (this.spawnedWith.get(service.key) !== service) void this.client.add(service).catch(() => undefined);
    this.emit('spawn', proc, this.ref);
    proc.then((result) => this.onExit(proc, describeEnd(result), startedAt)).catch(() => undefined);
  }

  private onExit(proc: LoggedProcess, description: string, startedAt: number): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.client = undefined;
    if (this.stopped) return;
    if (Date.now() - startedAt > 60_000) this.backoffMs = 1_000;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.emit('exit', description, delay, this.ref);
    this.timer = setTimeout(() => {
      this.restarts++;
      this.spawn();
    }, delay);
  }

  /** Stops the host (SIGTERM: every service deregisters and drains; SIGKILL after `graceMs`). */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const { ref } = this;
    this.proc = undefined;
    if (ref !== undefined) await stopGroup(ref, graceMs);
  }
}
