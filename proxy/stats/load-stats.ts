import type { Fault } from '../router/failure-fault.js';
import type { AuditOutcome } from '../../src/contract/audit.js';
import type { LastError, Load, SeriesAnswer } from '../../src/contract/load.js';
import { quantile } from './latency-buckets.js';
import { BUCKET_MS, TimeWindow, type WindowSum } from './time-window.js';

/** What the load figures need of one routed call (the router's audit record has it all). */
export interface LoadRecord {
  service: string;
  instance: string | undefined;
  durationMs: number;
  outcome: AuditOutcome;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  /** Whose doing a failure was (proxy/router/failure-fault.ts): a caller's own mistake is no load figure. */
  fault?: Fault | undefined;
}

export interface LoadStatsOptions {
  /** The clock (tests inject one; default `Date.now`). */
  now?: () => number;
  /** True for a registered service: calls naming anything else get no figures (no growth from typos). */
  isService?: (name: string) => boolean;
  /** True for a registered instance: a call that ends after its instance left creates no figures. */
  isInstance?: (id: string) => boolean;
}

/** Buckets of an instance (5 minutes) and of a service (15 minutes: its series). */
const INSTANCE_BUCKETS = 30;
const SERVICE_BUCKETS = 90;
const ONE_MINUTE = 6;
const FIVE_MINUTES = 30;

interface Figures {
  window: TimeWindow;
  inFlight: number;
  lastError: LastError | undefined;
}

/**
 * Live load per instance and per service, in memory with constant cost each (fixed time buckets and
 * a fixed log-scale latency histogram: see TimeWindow). Fed by the router: `begin`/`end` around
 * every request sent to an instance, `record` once per routed call. Reading computes the figures.
 * @example stats.record({ service: 'fs', instance: 'fs-1', durationMs: 3, outcome: 'ok' }); stats.instanceLoad('fs-1', 0)
 */
export class LoadStats {
  private readonly instances = new Map<string, Figures>();
  private readonly services = new Map<string, Figures>();
  private readonly now: () => number;
  private readonly isService: (name: string) => boolean;
  private readonly isInstance: (id: string) => boolean;

  constructor(options: LoadStatsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.isService = options.isService ?? (() => true);
    this.isInstance = options.isInstance ?? (() => true);
  }

  /** A request was sent to an instance. */
  begin(service: string, instance: string): void {
    const serviceFigures = this.serviceFigures(service);
    if (serviceFigures) serviceFigures.inFlight++;
    const figures = this.instanceFigures(instance);
    if (figures) figures.inFlight++;
  }

  /** A request sent to an instance ended (either way). */
  end(service: string, instance: string): void {
    const serviceFigures = this.services.get(service);
    if (serviceFigures && serviceFigures.inFlight > 0) serviceFigures.inFlight--;
    const figures = this.instances.get(instance);
    if (figures && figures.inFlight > 0) figures.inFlight--;
  }

  /** Counts one routed call (cheap: a few counters; nothing is allocated for a known instance and service). */
  record(record: LoadRecord): void {
    if (record.fault === 'caller') return;
    const serviceFigures = this.serviceFigures(record.service);
    if (!serviceFigures) return;
    const now = this.now();
    const failed = record.outcome === 'error' || record.outcome === 'timeout';
    serviceFigures.window.record(now, record.durationMs, failed);
    const figures = record.instance === undefined ? undefined : this.instanceFigures(record.instance);
    figures?.window.record(now, record.durationMs, failed);
    if (failed) {
      const lastError: LastError = { at: now, message: record.errorMessage ?? record.errorCode ?? record.outcome, code: record.errorCode };
      serviceFigures.lastError = lastError;
      if (figures) figures.lastError = lastError;
    }
  }

  /** An instance's figures (`restarts` as its sidecar said). */
  instanceLoad(instance: string, restarts = 0): Load {
    return toLoad(this.instances.get(instance), this.now(), restarts);
  }

  /** A service's figures, all replicas together (`restarts`: their sum). */
  serviceLoad(service: string, restarts = 0): Load {
    return toLoad(this.services.get(service), this.now(), restarts);
  }

  /**
   * A service's last `minutes` (1..15) as 10-second buckets, oldest first, empty ones as zeros.
   * @example stats.series('fs', 15).points.length // 90
   */
  series(service: string, minutes: number): SeriesAnswer {
    const figures = this.services.get(service);
    const count = Math.max(1, Math.min(SERVICE_BUCKETS, Math.round(minutes * ONE_MINUTE)));
    const current = Math.floor(this.now() / BUCKET_MS);
    const points: SeriesAnswer['points'] = [];
    for (let number = current - count + 1; number <= current; number++) {
      const sum = figures?.window.bucket(number);
      points.push({ at: number * BUCKET_MS, ...figuresOf(sum) });
    }
    return { service, bucketMs: BUCKET_MS, points };
  }

  /** Drops an instance's figures (it left the registry). */
  forgetInstance(instance: string): void {
    this.instances.delete(instance);
  }

  /** Drops a service's figures (its last replica left). */
  forgetService(service: string): void {
    this.services.delete(service);
  }

  /** How many instances and services have figures, and the bytes their counters hold. */
  size(): { instances: number; services: number; bytes: number } {
    let bytes = 0;
    for (const figures of this.instances.values()) bytes += figures.window.bytes;
    for (const figures of this.services.values()) bytes += figures.window.bytes;
    return { instances: this.instances.size, services: this.services.size, bytes };
  }

  private instanceFigures(instance: string): Figures | undefined {
    let figures = this.instances.get(instance);
    if (!figures && this.isInstance(instance)) this.instances.set(instance, (figures = { window: new TimeWindow(INSTANCE_BUCKETS), inFlight: 0, lastError: undefined }));
    return figures;
  }

  private serviceFigures(service: string): Figures | undefined {
    let figures = this.services.get(service);
    if (!figures && this.isService(service)) this.services.set(service, (figures = { window: new TimeWindow(SERVICE_BUCKETS), inFlight: 0, lastError: undefined }));
    return figures;
  }
}

// Calls, errors and percentiles of one summed stretch of buckets.
function figuresOf(sum: WindowSum | undefined): { calls: number; errors: number; p50Ms: number | null; p95Ms: number | null } {
  if (!sum || sum.calls === 0) return { calls: 0, errors: 0, p50Ms: null, p95Ms: null };
  return { calls: sum.calls, errors: sum.errors, p50Ms: quantile(sum.histogram, 0, 0.5), p95Ms: quantile(sum.histogram, 0, 0.95) };
}

function toLoad(figures: Figures | undefined, now: number, restarts: number): Load {
  if (!figures) return { inFlight: 0, calls1m: 0, calls5m: 0, p50Ms: null, p95Ms: null, errorRate: 0, restarts };
  const five = figuresOf(figures.window.sum(now, FIVE_MINUTES));
  const load: Load = {
    inFlight: figures.inFlight,
    calls1m: figures.window.sum(now, ONE_MINUTE).calls,
    calls5m: five.calls,
    p50Ms: five.p50Ms,
    p95Ms: five.p95Ms,
    errorRate: five.calls === 0 ? 0 : Math.round((five.errors / five.calls) * 1000) / 1000,
    restarts,
  };
  if (figures.lastError) load.lastError = figures.lastError;
  return load;
}
