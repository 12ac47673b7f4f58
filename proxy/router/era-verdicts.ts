import type { Client, PriorDiscovery } from '@modelcontextprotocol/client';

/** A legacy verdict is trusted this long; then the instance is probed again (it may have been upgraded). */
export const LEGACY_VERDICT_MS = 10 * 60_000;

/**
 * What each instance speaks, found out once by a `server/discover` probe and handed to every later
 * connect as the SDK's `prior` (docs/advanced/gateway.md): no probe, no round trip. Keyed by the
 * instance's url (one proxy, one token: one authorization context). A modern verdict that fails
 * is forgotten by its upstream; a legacy one ages out after `legacyMs`, since an upgraded instance
 * still answers initialize and would never correct it.
 */
export class EraVerdicts {
  private readonly verdicts = new Map<string, { prior: PriorDiscovery; storedAt: number }>();

  constructor(
    private readonly legacyMs = LEGACY_VERDICT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The verdict to connect with, or undefined (the connect probes). */
  prior(url: string): PriorDiscovery | undefined {
    const entry = this.verdicts.get(url);
    if (!entry) return undefined;
    if (entry.prior.kind === 'legacy' && this.now() - entry.storedAt > this.legacyMs) {
      this.verdicts.delete(url);
      return undefined;
    }
    return entry.prior;
  }

  /** Records what a connect without a verdict found (a discover result: modern; none: legacy). */
  remember(url: string, client: Client): void {
    const discover = client.getDiscoverResult();
    this.verdicts.set(url, { prior: discover ? { kind: 'modern', discover } : { kind: 'legacy' }, storedAt: this.now() });
  }

  forget(url: string): void {
    this.verdicts.delete(url);
  }
}
