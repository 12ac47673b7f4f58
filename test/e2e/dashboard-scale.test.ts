import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import t from 'tap';
import { silentLogger } from '../../src/log.js';
import { createProxyApp } from '../../proxy/app.js';
import { MeshCore } from '../../proxy/core.js';
import { MeshEndpoint } from '../../proxy/mcp/endpoint.js';
import { createProxyMetrics } from '../../proxy/metrics.js';
import { Registry } from '../../proxy/registry/registry.js';
import { launchBrowser, noBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { registration } from '../helpers/proxy-app.js';

// The dashboard at 200 services, in Chromium: the proxy's app served over a real socket with a
// registry of 200 registered services (metadata only, no calls: the charts are drawn from empty
// series). Timings are printed, not asserted.
const SERVICES = 200;
const skip = noBrowser();
if (skip) t.plan(0, skip);
else
  t.test(`${SERVICES} services: first paint, a live join, a service's charts`, async (t) => {
    const registry = await Registry.open({});
    const metrics = createProxyMetrics({ instancesByStatus: () => registry.countByStatus() });
    const core = new MeshCore({ registry, deadlineMs: 2_000 });
    const endpoint = new MeshEndpoint(core, silentLogger, '0.0.0-test');
    const app = createProxyApp({ core, endpoint, metrics, version: 'scale' });
    const listener = getRequestListener(app.fetch);
    const server = createServer((req, res) => void listener(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await endpoint.close();
      await core.router.close();
      await registry.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const register = (i: number) =>
      app.request('/v1/instances', {
        method: 'POST',
        headers: { host: '127.0.0.1', 'content-type': 'application/json' },
        body: JSON.stringify(registration(`svc${i}-1`, `svc${String(i).padStart(3, '0')}`, { tags: ['python', `team${i % 5}`] })),
      });
    const statuses = new Set<number>();
    for (let i = 0; i < SERVICES; i++) statuses.add((await register(i)).status);
    t.same([...statuses], [201], `${SERVICES} services registered`);

    const browser = await launchBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watchPage(page);
    await page.goto(`${base}/`);
    await page.locator(`#svc-table tbody tr[data-service="svc${SERVICES - 1}"]`).waitFor();
    const paint = await page.evaluate('JSON.stringify(performance.getEntriesByType("paint").map((p) => [p.name, Math.round(p.startTime)]))');
    t.equal(await page.locator('#svc-table tbody tr').count(), SERVICES, `${SERVICES} rows`);
    t.comment(`dashboard with ${SERVICES} services: paint timings (ms) ${String(paint)}`);
    await page.locator('#live.live-on').waitFor();

    const joined = Date.now();
    await register(SERVICES);
    await page.locator(`#svc-table tbody tr[data-service="svc${SERVICES}"]`).waitFor();
    t.comment(`a join reached the page's table in ${Date.now() - joined} ms (SSE event, then one coalesced GET /v1/services)`);
    await page.locator('#svc-search').fill('team3');
    t.equal(await page.locator('#svc-table tbody tr').count(), 40, 'the filter by tag');
    await page.locator('#svc-search').fill('');
    await screenshot(t, page, 'dashboard-200-services', false);

    await page.goto(`${base}/#service/svc007`);
    await page.locator('#svc-charts canvas').nth(2).waitFor();
    t.equal(await page.locator('#svc-charts .uplot').count(), 3, 'three charts: calls/s, latency, error rate');
    await page.locator('#svc-timeline li').first().waitFor();
    t.match(await page.locator('#svc-timeline').textContent(), /joined/, 'the timeline shows the join');
    await screenshot(t, page, 'dashboard-service-charts');
    t.same(problems, [], 'no console error, no failed request');
  });
