import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { LATEST_PROTOCOL_VERSION, type Tool } from '@modelcontextprotocol/server';
import { Bridge } from '../src/bridge/bridge.js';
import { MeshError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { ChildProcessTransport, describeExit, type ChildCommand, type ChildExit } from '../src/stdio/child-transport.js';
import { lastLines } from '../src/stdio/stderr-tail.js';
import { ChildEraTransport, type ChildEra } from '../src/stdio/child-era.js';
import type { OversizedLine } from '../src/stdio/line-reader.js';
import { toolsHash as hashTools } from '../src/instance/tools-hash.js';
import { groupAlive, signalGroup } from '../src/stdio/process-group.js';

/** `exited`: the child ended and the restart policy says not to start it again. */
export type ChildState = 'starting' | 'ready' | 'restarting' | 'crashloop' | 'exited' | 'stopping' | 'stopped';

/** When a child that ended is started again (the manifest's `restart.policy`). */
export type RestartPolicy = 'always' | 'on-failure' | 'never';

export interface SupervisorOptions extends ChildCommand {
  name: string;
  bridge: Bridge;
  log: Logger;
  version: string;
  /** How long initialize + tools/list may take. */
  initTimeoutMs?: number;
  /** How long a child may stay silent on the server/discover probe before it counts as legacy (default 10,000 ms). */
  probeTimeoutMs?: number;
  /** `legacy`: speak initialize to the child without probing it (default `auto`: probe with server/discover). */
  childEra?: 'auto' | 'legacy';
  /** Crashes within `crashWindowMs` beyond which the state is crashloop. */
  maxCrashes?: number;
  crashWindowMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Default `always`; `on-failure` leaves a child that exited with code 0 stopped; `never` restarts nothing. */
  restartPolicy?: RestartPolicy;
  /** Cap of one message from the child (one stdout line); a longer one is discarded and fails its call. */
  maxMessageBytes?: number;
  /** Grace between the stop stages (stdin close, SIGTERM, SIGKILL). */
  stopGraceMs?: number;
  onStateChange?: (state: ChildState) => void;
  onToolsChanged?: (tools: Tool[]) => void;
}

export interface LastExit extends ChildExit {
  at: string;
  description: string;
}

/**
 * Keeps one child MCP server running behind the bridge: spawn, initialize, list tools; on exit,
 * fail what was in flight and restart with capped exponential backoff, marking a crash loop.
 */
export class Supervisor {
  state: ChildState = 'starting';
  tools: Tool[] = [];
  // The hash of no tools, so a sidecar whose child never started can still register (as restarting).
  toolsHash = hashTools([]);
  restarts = 0;
  lastExit: LastExit | undefined;
  lastError: string | undefined;
  private transport: ChildProcessTransport | undefined;
  private eraTransport: ChildEraTransport | undefined;
  /** Set once a child exited while it was being probed: later starts skip the probe (it is a legacy server). */
  private skipProbe = false;
  private crashes: number[] = [];
  private backoff: IBackoff<unknown> | undefined;
  private readonly backoffFactory: ExponentialBackoff<unknown>;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt: number | undefined;
  /** The child a planned restart is closing (ended at once by killNow). */
  private retiring: ChildProcessTransport | undefined;
  /** Children a planned restart closed: their exit or failed start is expected, not a crash. */
  private readonly retired = new WeakSet<ChildProcessTransport>();
  private planned: Promise<void> | undefined;

  constructor(private readonly options: SupervisorOptions) {
    const { initialMs, maxMs } = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.backoffFactory = new ExponentialBackoff({ initialDelay: initialMs, maxDelay: maxMs });
  }

  get pid(): number | undefined {
    return this.transport?.exited ? undefined : this.transport?.pid;
  }

  /** Crashes counted within the crash window (a planned restart is none). */
  get crashCount(): number {
    const windowMs = this.options.crashWindowMs ?? 60_000;
    return this.crashes.filter((t) => Date.now() - t < windowMs).length;
  }

  /** The era the current child speaks (`modern`: 2026-07-28; `legacy`: initialize); undefined until its probe is answered. */
  get childEra(): ChildEra | undefined {
    return this.eraTransport?.era;
  }

  /** How the current child's era was found, and how long the probe took (ms). */
  get probe(): { outcome: string | undefined; ms: number | undefined } {
    return { outcome: this.eraTransport?.outcome, ms: this.eraTransport?.probeMs };
  }

  get junkLines(): number {
    return this.transport?.junkLines ?? 0;
  }

  /** Starts the child; resolves once it is ready or its first start has failed (restarts go on). */
  async start(): Promise<void> {
    await this.launch();
  }

  private setState(state: ChildState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }

  private async launch(): Promise<void> {
    const { bridge, log, name } = this.options;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const transport = new ChildProcessTransport({
      command: this.options.command,
      args: this.options.args,
      cwd: this.options.cwd,
      env: this.options.env,
      onStderrLine: (line) => log.info(`stderr: ${line}`),
      onJunkLine: (reason) => log.warn(`ignored a non-JSON-RPC line on stdout (${reason})`),
      maxMessageBytes: this.options.maxMessageBytes,
      onOversizedLine: (line) => this.onOversizedLine(line),
      onexit: (exit) => this.onExit(transport, exit),
    });
    this.transport = transport;
    try {
      await transport.start();
      if (this.superseded(transport)) throw new MeshError('CALL_CANCELLED', `${name}: the server was replaced or stopped while it started`);
      const clientInfo = { name: `mesh-sidecar/${name}`, version: this.options.version };
      const capabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };
      const era = new ChildEraTransport(transport, { clientInfo, capabilities, probe: !this.skipProbe && this.options.childEra !== 'legacy', probeTimeoutMs: this.options.probeTimeoutMs, log });
      this.eraTransport = era;
      await era.start();
      // A child that ended on the probe, or stayed silent through it, is a legacy server: its restarts
      // skip the probe (a silent one would otherwise wait out --probe-timeout at every restart).
      if (era.outcome === 'exit' || era.outcome === 'timeout') this.skipProbe = true;
      const exited = transport.exited;
      if (exited) {
        const stderr = exited.stderrTail ? `; stderr: ${lastLines(exited.stderrTail, 5)}` : '';
        throw new MeshError('CHILD_EXITED', `${name}: the server ${describeExit(exited)} while handling server/discover${stderr}`);
      }
      if (this.superseded(transport)) throw new MeshError('CALL_CANCELLED', `${name}: the server was replaced or stopped while it started`);
      bridge.attach(era);
      const timeout = this.options.initTimeoutMs ?? 30_000;
      bridge.serverInit = await bridge.request('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities, clientInfo }, timeout);
      bridge.notify('notifications/initialized');
      await this.refreshTools();
      await this.replayClientState();
      // Replaced (a planned restart) or stopped while it started: this child is not the one to serve.
      if (this.superseded(transport)) {
        if (this.transport !== transport) await transport.close(this.options.stopGraceMs ?? 2_000);
        return;
      }
      this.lastError = undefined;
      this.setState('ready');
      log.info(`child pid ${transport.pid} ready with ${this.tools.length} tools (${era.era} era, probe ${era.outcome}${era.probeMs === undefined ? '' : ` in ${era.probeMs} ms`})`);
    } catch (error) {
      // A child closed by a planned restart or a stop fails its start as expected: no crash, no restart.
      if (this.superseded(transport)) {
        if (!transport.exited && this.transport !== transport) await transport.close(this.options.stopGraceMs ?? 2_000);
        return;
      }
      this.lastError = error instanceof Error ? error.message : String(error);
      log.error(`child failed to start: ${this.lastError}`);
      if (!transport.exited) await transport.close(this.options.stopGraceMs ?? 2_000);
      // A spawn failure produces no exit event through the bridge: count it here.
      if (!this.superseded(transport) && !this.restartTimer) this.afterFailure(true);
    }
  }

  private superseded(transport: ChildProcessTransport): boolean {
    return this.transport !== transport || this.retired.has(transport) || this.isStoppedOrExited();
  }

  // An over-long line is junk, not a crash: it is dropped, and the call it answers (or the oldest) fails naming the limit.
  private onOversizedLine(line: OversizedLine): void {
    const { bridge, log, name } = this.options;
    const limit = this.transport?.maxMessageBytes ?? 0;
    if (line.ended) {
      log.warn(`discarded a stdout line of ${line.bytes} bytes (over the ${limit}-byte limit, --max-message-bytes)`);
      return;
    }
    const failed = bridge.failUnreadableAnswer(line.id, (pending) => {
      const what = pending.tool ? `tool "${pending.tool}"` : pending.method;
      const message =
        pending.childId === line.id
          ? `${name}: the answer to ${what} is larger than the ${limit}-byte limit of one message (--max-message-bytes); it was discarded`
          : `${name}: while ${what} was in flight the server wrote a stdout line larger than the ${limit}-byte limit of one message (--max-message-bytes); it was discarded and this call failed`;
      return new MeshError('PAYLOAD_TOO_LARGE', message, {
        context: { service: name, method: pending.method, tool: pending.tool, limitBytes: limit },
      });
    });
    const which = failed ? `; failed ${failed.tool ? `tool "${failed.tool}"` : failed.method} (child id ${failed.childId})` : '; no call was in flight';
    log.warn(`a stdout line passed the ${limit}-byte limit (--max-message-bytes) after ${line.bytes} bytes: discarding it${which}`);
  }

  /** Reads the child's whole tool list (following pagination) and reports changes. */
  async refreshTools(): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.options.bridge.request<{ tools: Tool[]; nextCursor?: string }>('tools/list', cursor ? { cursor } : undefined);
      tools.push(...(page.tools ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    const hash = hashTools(tools);
    const changed = hash !== this.toolsHash;
    this.tools = tools;
    this.toolsHash = hash;
    if (changed) this.options.onToolsChanged?.(tools);
    return tools;
  }

  private async replayClientState(): Promise<void> {
    const { bridge } = this.options;
    if (bridge.clientLogLevel) await bridge.request('logging/setLevel', { level: bridge.clientLogLevel }).catch(() => undefined);
    for (const uri of bridge.subscribedUris()) await bridge.request('resources/subscribe', { uri }).catch(() => undefined);
  }

  private onExit(transport: ChildProcessTransport, exit: ChildExit): void {
    if (transport !== this.transport) return;
    const { bridge, log, name } = this.options;
    const description = describeExit(exit);
    this.lastExit = { ...exit, at: new Date().toISOString(), description };
    const stderr = exit.stderrTail ? `; stderr: ${lastLines(exit.stderrTail, 5)}` : '';
    const context = { service: name, exitCode: exit.code, signal: exit.signal, stderrTail: exit.stderrTail };
    bridge.detach(
      (pending) => {
        const what = pending.tool ? `tool "${pending.tool}"` : pending.method;
        return new MeshError('CHILD_EXITED', `${name}: the server ${description} while handling ${what}${stderr}`, { context });
      },
      () => new MeshError('SERVICE_UNAVAILABLE', `${name}: the server is ${this.state}${this.retryHint()} (it ${description}${stderr})`, { context }),
    );
    if (this.isStoppedOrExited() || this.retired.has(transport)) return;
    log.warn(`child ${description}`);
    this.afterFailure(exit.code !== 0 || exit.signal !== null);
  }

  private isStoppedOrExited(): boolean {
    return this.state === 'stopping' || this.state === 'stopped' || this.state === 'exited';
  }

  // The restart policy decides between a restart and staying down (`exited`, not routed).
  private afterFailure(failed: boolean): void {
    const policy = this.options.restartPolicy ?? 'always';
    if (policy === 'always' || (policy === 'on-failure' && failed)) return this.scheduleRestart();
    this.options.log.warn(`not restarting the child (restart policy ${policy})`);
    this.setState('exited');
  }

  private retryHint(): string {
    if (this.nextAttemptAt === undefined) return '';
    return `, next start in ${Math.max(0, Math.round((this.nextAttemptAt - Date.now()) / 100) / 10)} s`;
  }

  private scheduleRestart(): void {
    const now = Date.now();
    const windowMs = this.options.crashWindowMs ?? 60_000;
    this.crashes = this.crashes.filter((t) => now - t < windowMs);
    if (this.crashes.length === 0) this.backoff = undefined; // a long quiet spell resets the backoff
    this.crashes.push(now);
    this.backoff = this.backoff ? this.backoff.next(undefined) : this.backoffFactory.next();
    const delay = this.backoff.duration;
    this.setState(this.crashes.length > (this.options.maxCrashes ?? 5) ? 'crashloop' : 'restarting');
    this.nextAttemptAt = now + delay;
    this.options.log.info(`restarting in ${Math.round(delay)} ms (${this.crashes.length} crashes in the last ${windowMs / 1000} s, state ${this.state})`);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.nextAttemptAt = undefined;
      void this.launch();
    }, delay);
  }

  // `mesh restart`: the sidecar (and its registration) stays; only the child is replaced. Meanwhile the
  // state is `restarting`, so the proxy keeps the instance listed but routes nothing to it.
  /** Stops the child and starts it again at once (not counted as a crash); resolves once it is ready or failed. */
  restart(): Promise<void> {
    this.planned ??= this.replaceChild().finally(() => (this.planned = undefined));
    return this.planned;
  }

  private async replaceChild(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') throw new MeshError('SERVICE_UNAVAILABLE', `${this.options.name}: the sidecar is ${this.state}`);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextAttemptAt = undefined;
    this.setState('restarting');
    const old = this.transport;
    if (old) this.retired.add(old);
    this.retiring = old;
    try {
      await old?.close(this.options.stopGraceMs ?? 2_000);
    } finally {
      this.retiring = undefined;
    }
    if (this.state !== 'restarting') return; // stopped meanwhile
    this.restarts++;
    await this.launch();
  }

  // The sidecar's second signal exits at once: the child's group (its own, so not ended with the
  // sidecar) is killed synchronously first, or it would be left running under PID 1.
  /** SIGKILLs the process group of the current child and of one a planned restart is closing. */
  killNow(): void {
    for (const transport of [this.transport, this.retiring]) {
      const pgid = transport?.pid;
      if (pgid !== undefined && groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    }
  }

  /** Stops the child (stdin close, SIGTERM, SIGKILL of its group) and any pending restart. */
  async stop(): Promise<void> {
    this.setState('stopping');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.transport?.close(this.options.stopGraceMs ?? 2_000);
    this.setState('stopped');
  }
}
