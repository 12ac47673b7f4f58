import { z } from 'zod';

/**
 * When the router ejects an instance from a service's rotation: Envoy's outlier detection in its
 * consecutive-gateway-failure mode (README, "Circuit breaking").
 */
export const OutlierPolicySchema = z
  .object({
    /** Consecutive instance failures that eject it (Envoy's `consecutive_gateway_failure`). */
    consecutiveFailures: z.number().int().min(1).default(5),
    /** How long a first ejection lasts; the n-th lasts n times as long (Envoy's `base_ejection_time`). */
    baseEjectionMs: z.number().positive().default(30_000),
    /** The longest ejection (Envoy's `max_ejection_time`). */
    maxEjectionMs: z.number().positive().default(300_000),
    /**
     * The share of a service's healthy replicas that may be ejected at once, in percent; at least
     * one may be, never all of them (Envoy's `max_ejection_percent`, which also ejects at least one).
     */
    maxEjectionPercent: z.number().min(0).max(100).default(50),
  })
  .strict();

export type OutlierPolicy = z.output<typeof OutlierPolicySchema>;
export type OutlierPolicyInput = z.input<typeof OutlierPolicySchema>;

/** How long the `ejections`-th ejection in a row lasts: base × ejections, capped (Envoy's rule). */
export function ejectionMs(policy: OutlierPolicy, ejections: number): number {
  return Math.min(policy.baseEjectionMs * ejections, policy.maxEjectionMs);
}

/**
 * How many of `healthy` replicas may be left out of the rotation at once: the policy's share,
 * at least one, never every one (so a lone replica is never ejected).
 * @example ejectableCount({ ...policy, maxEjectionPercent: 50 }, 2) // 1
 */
export function ejectableCount(policy: OutlierPolicy, healthy: number): number {
  if (healthy <= 1) return 0;
  return Math.min(healthy - 1, Math.max(1, Math.floor((healthy * policy.maxEjectionPercent) / 100)));
}
