import t from 'tap';
import type { Client } from '@modelcontextprotocol/client';
import { EraVerdicts } from '../../proxy/router/era-verdicts.js';

// What a connect found, as EraVerdicts reads it from the client: a discover result (modern) or none (legacy).
const found = (discover: unknown) => ({ getDiscoverResult: () => discover }) as unknown as Client;
const discover = { supportedVersions: ['2026-07-28'], capabilities: {} };

t.test('verdicts: modern kept, legacy aged out after its horizon, forget drops either', async (t) => {
  const clock = { now: 0 };
  const verdicts = new EraVerdicts(1_000, () => clock.now);
  t.equal(verdicts.prior('http://a/mcp'), undefined, 'nothing known: the connect probes');
  verdicts.remember('http://a/mcp', found(discover));
  verdicts.remember('http://b/mcp', found(undefined));
  t.same(verdicts.prior('http://a/mcp'), { kind: 'modern', discover });
  t.same(verdicts.prior('http://b/mcp'), { kind: 'legacy' });
  clock.now = 1_001;
  t.same(verdicts.prior('http://a/mcp'), { kind: 'modern', discover }, 'a modern verdict does not age (a stale one fails loudly and is forgotten)');
  t.equal(verdicts.prior('http://b/mcp'), undefined, 'a legacy verdict past its horizon: probe again (the instance may have been upgraded)');
  verdicts.forget('http://a/mcp');
  t.equal(verdicts.prior('http://a/mcp'), undefined, 'forgotten');
});
