import { ejectableCount, ejectionMs, OutlierPolicySchema, type OutlierPolicy, type OutlierPolicyInput } from './outlier-policy.js';

/** closed: routed; open: ejected until `ejectedUntil`; half-open: ejection over, one probe call at a time. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One instance's breaker as `/v1/services`, the mesh tools and `/metrics` show it. */
export interface CircuitView {
  state: CircuitState;
  /** Instance failures in a row (a success resets it). */
  consecutiveFailures: number;
  /** Ejections so far: the multiplier of the next ejection time (one is forgiven per base ejection time spent closed). */
  ejections: number;
  /** While open or half-open: when the ejection ends (ms since epoch, the proxy's clock). */
  ejectedUntil: number | undefined;
  /**
   * Open (or half-open with its probe in flight) yet still routed: leaving it out would eject
   * more of the service's healthy replicas than the policy allows, or all of them.
   */
  kept: boolean;
  /** The last instance failure, as the caller was told. */
  lastFailure: string | undefined;
}

/** What a routed request's end says about the instance (see `classifyFailure`). */
export type Outcome = 'success' | 'failure' | 'ignore';

/** A transition worth a log line and a metric. */
export type CircuitEvent =
  | { type: 'ejected'; service: string; instance: string; failures: number; ejections: number; forMs: number; reason: string | undefined }
  | { type: 'restored'; service: string; instance: string }
  | { type: 'kept'; service: string; instance: string; reason: string | undefined };

/** A routed request's claim on an instance, handed back with its outcome. */
export interface Admission {
  readonly service: string;
  readonly instance: string;
  /** This request is the half-open instance's probe. */
  readonly probe: boolean;
  /** The instance's ejection count when the request started: an older request's outcome moves no state. */
  readonly generation: number;
  /** The breaker admitted to (opaque): an outcome for a breaker since forgotten is dropped. */
  readonly breaker: object;
}

interface Breaker {
  service: string;
  failures: number;
  ejections: number;
  ejectedAt: number;
  /** Set while the instance is ejected (open) or on probation (half-open). */
  ejectedUntil: number | undefined;
  closedAt: number;
  probing: boolean;
  /** Bumped by every ejection. */
  generation: number;
  /** The generation a `kept` event was sent for (one per ejection). */
  keptAnnounced: number;
  lastFailure: string | undefined;
}

export interface OutlierDetectorOptions {
  policy?: OutlierPolicyInput;
  /** The clock for ejection times (tests inject one; default `Date.now`). */
  now?: () => number;
  onEvent?: (event: CircuitEvent) => void;
}

type Replica = { readonly id: string };

/**
 * Per-instance circuit breakers, Envoy's outlier detection in its consecutive-gateway-failure mode:
 * `consecutiveFailures` instance failures in a row eject an instance for base × n ejection time
 * (capped); then it is half-open and gets one probe call at a time; a success closes it, a failure
 * ejects it again for longer. A service never loses more of its healthy replicas to ejection than
 * `maxEjectionPercent` allows, nor all of them: the replicas over the limit stay routed, marked
 * `kept`, and a `kept` event says so. Time is read from the injected clock, never from timers.
 * @example
 * const candidates = outliers.routable('fs', healthyReplicas);
 * const admission = outliers.admit('fs', chosen.id);
 * try { await call(chosen); outliers.record(admission, 'success'); } catch (e) { outliers.record(admission, classifyFailure(...)); }
 */
export class OutlierDetector {
  readonly policy: OutlierPolicy;
  private readonly breakers = new Map<string, Breaker>();
  private readonly now: () => number;
  private readonly onEvent: (event: CircuitEvent) => void;

  constructor(options: OutlierDetectorOptions = {}) {
    this.policy = OutlierPolicySchema.parse(options.policy ?? {});
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent ?? (() => undefined);
  }

  /**
   * The replicas a request may go to now, out of a service's healthy ones: closed breakers,
   * half-open ones whose probe is free, and the blocked ones the ejection limit keeps routed.
   */
  routable<T extends Replica>(service: string, healthy: readonly T[]): T[] {
    if (this.breakers.size === 0) return healthy as T[];
    const split = this.split(healthy, this.now());
    if (!split) return healthy as T[];
    const { blocked, kept } = split;
    for (const id of kept) {
      const breaker = this.breakers.get(id) as Breaker;
      if (breaker.keptAnnounced === breaker.generation) continue;
      breaker.keptAnnounced = breaker.generation;
      this.onEvent({ type: 'kept', service, instance: id, reason: breaker.lastFailure });
    }
    return healthy.filter((r) => !blocked.has(r.id) || kept.has(r.id));
  }

  /** Claims `instance` for one request (its probe slot when half-open); hand the result to `record`. */
  admit(service: string, instance: string): Admission {
    let breaker = this.breakers.get(instance);
    if (!breaker) {
      breaker = { service, failures: 0, ejections: 0, ejectedAt: 0, ejectedUntil: undefined, closedAt: this.now(), probing: false, generation: 0, keptAnnounced: 0, lastFailure: undefined };
      this.breakers.set(instance, breaker);
    }
    breaker.service = service;
    const probe = stateOf(breaker, this.now()) === 'half-open' && !breaker.probing;
    if (probe) breaker.probing = true;
    return { service, instance, probe, generation: breaker.generation, breaker };
  }

  /** The outcome of an admitted request; `failure` carries what the caller was told. */
  record(admission: Admission, outcome: Outcome, failure?: string): void {
    const breaker = this.breakers.get(admission.instance);
    if (!breaker || breaker !== admission.breaker) return;
    if (admission.probe) breaker.probing = false;
    if (outcome === 'ignore') return;
    const now = this.now();
    const current = admission.generation === breaker.generation;
    if (outcome === 'success') {
      breaker.failures = 0;
      if (current && breaker.ejectedUntil !== undefined) {
        breaker.ejectedUntil = undefined;
        breaker.closedAt = now;
        this.onEvent({ type: 'restored', service: breaker.service, instance: admission.instance });
      }
      return;
    }
    breaker.failures++;
    breaker.lastFailure = failure;
    // A request that started before the latest ejection says nothing new about the instance.
    if (!current) return;
    if (breaker.ejectedUntil === undefined ? breaker.failures >= this.policy.consecutiveFailures : now >= breaker.ejectedUntil) {
      this.eject(breaker, admission.instance, now);
    }
  }

  /** Each replica's breaker as shown to people; `kept` is judged among the replicas whose status is healthy. */
  describe(replicas: readonly (Replica & { status: string })[]): Map<string, CircuitView> {
    const now = this.now();
    const kept =
      this.split(
        replicas.filter((r) => r.status === 'healthy'),
        now,
      )?.kept ?? new Set<string>();
    const views = new Map<string, CircuitView>();
    for (const { id } of replicas) {
      const breaker = this.breakers.get(id);
      views.set(id, {
        state: breaker ? stateOf(breaker, now) : 'closed',
        consecutiveFailures: breaker?.failures ?? 0,
        ejections: breaker ? this.decayed(breaker, now) : 0,
        ejectedUntil: breaker?.ejectedUntil,
        kept: kept.has(id),
        lastFailure: breaker?.lastFailure,
      });
    }
    return views;
  }

  /** Every known breaker's state, for the metrics gauges. */
  states(): { service: string; instance: string; state: CircuitState }[] {
    const now = this.now();
    return [...this.breakers].map(([instance, breaker]) => ({ service: breaker.service, instance, state: stateOf(breaker, now) }));
  }

  /** Drops the breaker of an instance that left the registry. */
  forget(instance: string): void {
    this.breakers.delete(instance);
  }

  // The blocked replicas (open, or half-open with a probe in flight; undefined when none is, the
  // usual case), and those of them that stay routed because the policy allows fewer ejections:
  // the earliest ejected stay out, as Envoy refuses ejections beyond its maximum.
  private split(healthy: readonly Replica[], now: number): { blocked: Set<string>; kept: Set<string> } | undefined {
    let blocked: { id: string; at: number }[] | undefined;
    for (const { id } of healthy) {
      const breaker = this.breakers.get(id);
      if (breaker?.ejectedUntil === undefined) continue;
      if (now < breaker.ejectedUntil || breaker.probing) (blocked ??= []).push({ id, at: breaker.ejectedAt });
    }
    if (!blocked) return undefined;
    const allowed = ejectableCount(this.policy, healthy.length);
    blocked.sort((a, b) => a.at - b.at);
    return { blocked: new Set(blocked.map((b) => b.id)), kept: new Set(blocked.slice(allowed).map((b) => b.id)) };
  }

  private eject(breaker: Breaker, instance: string, now: number): void {
    const cap = Math.max(1, Math.ceil(this.policy.maxEjectionMs / this.policy.baseEjectionMs));
    breaker.ejections = Math.min(cap, (breaker.ejectedUntil === undefined ? this.decayed(breaker, now) : breaker.ejections) + 1);
    const forMs = ejectionMs(this.policy, breaker.ejections);
    breaker.ejectedAt = now;
    breaker.ejectedUntil = now + forMs;
    breaker.generation++;
    this.onEvent({ type: 'ejected', service: breaker.service, instance, failures: breaker.failures, ejections: breaker.ejections, forMs, reason: breaker.lastFailure });
  }

  // Envoy forgives ejections over time: one per base ejection time the instance has spent closed.
  private decayed(breaker: Breaker, now: number): number {
    if (breaker.ejectedUntil !== undefined) return breaker.ejections;
    return Math.max(0, breaker.ejections - Math.floor((now - breaker.closedAt) / this.policy.baseEjectionMs));
  }
}

function stateOf(breaker: Breaker, now: number): CircuitState {
  if (breaker.ejectedUntil === undefined) return 'closed';
  return now < breaker.ejectedUntil ? 'open' : 'half-open';
}
