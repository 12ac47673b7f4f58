import { isDeepStrictEqual } from 'node:util';
import { createLogger, type Logger } from '../../src/log.js';
import { startSidecar, type Sidecar } from '../sidecar.js';
import { fileLogger } from './file-logger.js';
import type { HostedService, HostedStatus } from './host-spec.js';

interface Entry {
  service: HostedService;
  log: Logger;
  closeLog: () => void;
  sidecar: Sidecar | undefined;
  starting: Promise<void> | undefined;
  /** Aborted by remove(): a start under way stops its child and gives up. */
  abort: AbortController;
  /** Aborted by killAll(): SIGKILLs the child's group at once. */
  kill: AbortController;
  retry: NodeJS.Timeout | undefined;
  backoffMs: number;
  error: string | undefined;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * The sidecars of one host process, each started with startSidecar() as `mesh-sidecar` starts its
 * one: its own port, registration, heartbeat, supervisor and control endpoint. A sidecar that cannot
 * start (its port taken) is tried again with backoff, without touching the others.
 */
export class HostedServices {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { controlToken: string; version: string }) {}

  /** Starts `service` unless the same one already runs; a changed one with the same key is replaced. */
  async add(service: HostedService): Promise<'added' | 'unchanged' | 'replaced'> {
    const old = this.entries.get(service.key);
    if (old !== undefined && isDeepStrictEqual(old.service, service)) return 'unchanged';
    if (old !== undefined) await this.remove(service.key);
    const logger = service.log === undefined ? { log: createLogger(service.sidecar.name), close: () => undefined } : fileLogger(service.sidecar.name, service.log);
    const entry: Entry = {
      service,
      log: logger.log,
      closeLog: () => logger.close(),
      sidecar: undefined,
      starting: undefined,
      abort: new AbortController(),
      kill: new AbortController(),
      retry: undefined,
      backoffMs: 1_000,
      error: undefined,
    };
    this.entries.set(service.key, entry);
    this.start(entry);
    return old === undefined ? 'added' : 'replaced';
  }

  private start(entry: Entry): void {
    const { sidecar: spec } = entry.service;
    entry.starting = startSidecar({
      ...spec,
      log: entry.log,
      signal: entry.abort.signal,
      killSignal: entry.kill.signal,
      controlToken: this.options.controlToken,
      version: this.options.version,
    }).then(
      (sidecar) => {
        entry.starting = undefined;
        entry.error = undefined;
        if (entry.abort.signal.aborted) return void sidecar.stop();
        entry.sidecar = sidecar;
        const h = sidecar.health();
        entry.log.info(`ready at ${sidecar.url} in the sidecar host pid ${process.pid} (${h.state}, ${h.tools} tools, child pid ${h.pid ?? '-'})`);
      },
      (error: Error) => {
        entry.starting = undefined;
        if (entry.abort.signal.aborted) return;
        entry.error = error.message;
        entry.log.error(`cannot start: ${error.message} (trying again in ${Math.round(entry.backoffMs / 1000)} s)`);
        entry.retry = setTimeout(() => {
          entry.retry = undefined;
          if (!entry.abort.signal.aborted) this.start(entry);
        }, entry.backoffMs);
        entry.backoffMs = Math.min(entry.backoffMs * 2, MAX_BACKOFF_MS);
      },
    );
  }

  /** Stops one service (it deregisters, drains, stops its child's group); false when there is none. */
  async remove(key: string): Promise<boolean> {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    entry.abort.abort();
    if (entry.retry) clearTimeout(entry.retry);
    await entry.starting;
    await entry.sidecar?.stop();
    entry.log.info('stopped (removed from the sidecar host)');
    entry.closeLog();
    return true;
  }

  /** Every service with its state, port and child, for `mesh up`. */
  list(): HostedStatus[] {
    return [...this.entries.values()].map(({ service, sidecar, error }) => {
      const h = sidecar?.health();
      return {
        key: service.key,
        name: service.sidecar.name,
        state: h?.state ?? (error === undefined ? 'starting' : 'failed'),
        ...(sidecar === undefined ? {} : { url: sidecar.url, port: sidecar.port }),
        ...(h?.pid === undefined ? {} : { childPid: h.pid }),
        ...(error === undefined ? {} : { error }),
      };
    });
  }

  /** Stops every service at once (each drains on its own). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((key) => this.remove(key)));
  }

  /** SIGKILLs every child's group now (a host about to exit at once). */
  killAll(): void {
    for (const entry of this.entries.values()) entry.kill.abort();
  }
}
