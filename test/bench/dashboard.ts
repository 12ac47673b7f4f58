/**
 * The dashboard's benchmark (issue 11): a real mesh-proxy holding N registered services (metadata
 * only, 10 tools each), its page loaded in Debian's headless Chromium (playwright-core) several
 * times: first contentful paint, the moment the first view holds every row (a mark the page sets), and how long a
 * service that joins takes to appear on an open page (SSE event, one coalesced GET /v1/services,
 * one table rebuild). `npm run bench -- --suite dashboard [--dashboard-services N] [--dashboard-loads N]`.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { startBenchProxy } from './paths.js';
import { median, percentile, round } from './stats.js';

const CHROMIUM = '/usr/bin/chromium';

/** Options of the dashboard suite. */
export interface DashboardOptions {
  services: number;
  /** Page loads measured (a fresh browser context each). */
  loads: number;
  /** Services that join while one page stays open. */
  joins: number;
}

export const DEFAULT_DASHBOARD_OPTIONS: DashboardOptions = { services: 200, loads: 7, joins: 10 };

interface Spread {
  median: number;
  p90: number;
  max: number;
}

/** What the suite measured, or why it did not run. */
export type DashboardResult = { skipped: string } | { services: number; loads: number; joins: number; pageKiB: number; firstContentfulPaintMs: Spread; tableFilledMs: Spread; liveJoinMs: Spread };

// One registration: a loopback URL nobody serves, 10 small tools.
function registration(i: number) {
  const name = `svc${String(i).padStart(3, '0')}`;
  const tools = Array.from({ length: 10 }, (_, k) => ({ name: `tool_${k}`, description: `Tool ${k} of ${name}`, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }));
  return {
    id: `${name}-1`,
    name,
    url: `http://127.0.0.1:9/${name}/mcp`,
    host: '127.0.0.1',
    port: 9,
    pid: 4000 + i,
    tags: ['bench', `team${i % 5}`],
    tools,
    toolsHash: 'h',
    version: '1',
    kind: 'sidecar',
  };
}

const row = (label: string, value: string) => `  ${label.padEnd(48)}${value}`;
const figures = (s: Spread) => `${s.median} / ${s.p90} / ${s.max}`;

/** Runs the dashboard suite; skipped (with the package to install) where Debian's chromium is missing. */
export async function runDashboardSuite(options: DashboardOptions, log: (line: string) => void): Promise<DashboardResult> {
  if (!existsSync(CHROMIUM)) return { skipped: `no ${CHROMIUM}: install Debian's package "chromium" (apt-get install chromium)` };
  const { services, loads, joins } = options;
  log(`dashboard: ${services} services, ${loads} page loads, ${joins} joins`);
  const proxy = await startBenchProxy();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const register = async (i: number) => {
      const response = await fetch(`${proxy.base}/v1/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(registration(i)) });
      if (response.status !== 201) throw new Error(`registration ${i}: HTTP ${response.status} ${await response.text()}`);
    };
    for (let i = 0; i < services; i++) await register(i);
    const last = `svc${String(services - 1).padStart(3, '0')}`;
    const paint: number[] = [];
    const filled: number[] = [];
    const pageBytes: number[] = [];
    for (let n = 0; n < loads; n++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const response = await page.goto(`${proxy.base}/`);
      pageBytes.push((await response?.body())?.length ?? 0);
      await page.locator(`#svc-table tbody tr[data-service="${last}"]`).waitFor();
      const [fcp, now] = JSON.parse(
        String(
          await page.evaluate('JSON.stringify([performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1, performance.getEntriesByName("mesh:first-view")[0]?.startTime ?? -1])'),
        ),
      ) as [number, number];
      paint.push(fcp);
      filled.push(now);
      await context.close();
    }
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${proxy.base}/`);
    await page.locator('#live.live-on').waitFor();
    const live: number[] = [];
    for (let j = 0; j < joins; j++) {
      const i = services + j;
      const started = performance.now();
      await register(i);
      await page.locator(`#svc-table tbody tr[data-service="svc${String(i).padStart(3, '0')}"]`).waitFor();
      live.push(performance.now() - started);
    }
    const stats = (values: number[]): Spread => ({ median: round(median(values), 1), p90: round(percentile(values, 0.9), 1), max: round(Math.max(...values), 1) });
    return { services, loads, joins, pageKiB: round(median(pageBytes) / 1024, 1), firstContentfulPaintMs: stats(paint), tableFilledMs: stats(filled), liveJoinMs: stats(live) };
  } finally {
    await browser.close();
    await proxy.stop();
  }
}

/** The suite's table. */
export function formatDashboardTable(result: DashboardResult): string {
  if ('skipped' in result) return `dashboard: skipped: ${result.skipped}`;
  return [
    `dashboard, ${result.services} services in headless chromium (${result.loads} page loads, ${result.joins} joins; ms since navigation start; median / p90 / max)`,
    row('page (HTML with the embedded services list)', `${result.pageKiB} KiB`),
    row('first contentful paint', figures(result.firstContentfulPaintMs)),
    row(`table holds all ${result.services} rows (in-page mark)`, figures(result.tableFilledMs)),
    row('a join shown on the open page (from POST)', figures(result.liveJoinMs)),
  ].join('\n');
}
