import type { MultiProxyOutcome } from './multi-proxy.js';
import type { PgRates } from './pg-activity.js';
import type { LatencyStats } from './registry-load.js';

/** The issue-12 targets, printed beside the figures. */
export const MULTI_TARGETS = { visibleP99Ms: 1_000, heartbeatP99Ms: 20, routedRatio: 0.9 };

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

function pgLine(what: string, pg: PgRates | undefined): string {
  if (!pg) return `${what}: no PostgreSQL`;
  const tables = pg.tables.map((t) => `${t.table} ${fmt(t.rowsPerSec, 0)}`).join(', ');
  return `${what}: ${fmt(pg.writeTransactionsPerSec, 0)} write transactions/s (${fmt(pg.commitsPerSec, 0)} commits/s with the read-only ones), ${fmt(pg.rowsWrittenPerSec, 0)} rows written/s${tables ? ` (${tables})` : ''}, ${fmt(pg.walKiBPerSec, 0)} KiB WAL/s; over ${fmt(pg.seconds, 1)} s`;
}

/** The suite's table, for stdout. */
export function formatMultiProxyTable(r: MultiProxyOutcome): string {
  if ('skipped' in r) return `multi-proxy: skipped: ${r.skipped}`;
  const o = r.options;
  const header = ['measure', 'count', 'p50 ms', 'p99 ms', 'max ms', 'rate/s', 'target', 'note'];
  const row = (name: string, l: LatencyStats, rate: number | undefined, target: string, note: string) => [
    name,
    String(l.count),
    fmt(l.p50Ms, 2),
    fmt(l.p99Ms, 2),
    fmt(l.maxMs, 2),
    rate === undefined ? '' : fmt(rate, 0),
    target,
    note,
  ];
  const h = r.heartbeats;
  const failed = Object.entries(h.failures).map(([status, count]) => `${count} × ${status}`);
  const visibleTarget = (p99: number, missing: number) => `p99 < ${MULTI_TARGETS.visibleP99Ms}: ${verdict(p99 < MULTI_TARGETS.visibleP99Ms && missing === 0)}`;
  const rows = [
    row(
      'register POST /v1/instances',
      r.registration.latency,
      r.registration.perSec,
      '',
      `${o.registerPerSec > 0 ? `paced at ${o.registerPerSec}/s` : 'unpaced'}, ${o.concurrency} in flight over ${o.proxies} proxies; ${fmt(r.registration.proxyCpuMsEach, 2)} ms proxy CPU each (all proxies)`,
    ),
    row(
      'visible on every proxy, bulk',
      r.registration.visible,
      undefined,
      visibleTarget(r.registration.visible.p99Ms, r.registration.visible.missing),
      `POST answered → last proxy's /v1/events joined; during the registrations above${r.registration.visible.missing > 0 ? `; ${r.registration.visible.missing} MISSING` : ''}`,
    ),
    row(
      'visible on every proxy, steady',
      r.probes,
      undefined,
      visibleTarget(r.probes.p99Ms, r.probes.missing),
      `a new instance every ${o.probeEveryMs} ms beside the heartbeats${r.probes.missing > 0 ? `; ${r.probes.missing} MISSING` : ''}`,
    ),
    row(
      'heartbeat PUT',
      h.latency,
      h.achievedPerSec,
      `p99 < ${MULTI_TARGETS.heartbeatP99Ms}: ${verdict(h.latency.p99Ms < MULTI_TARGETS.heartbeatP99Ms && failed.length === 0 && h.reregistered === 0)}`,
      `${o.compression === 1 ? 'real rate' : `${o.compression}x the real rate (time-compressed)`}: target ${fmt(h.targetPerSec, 0)}/s; ${fmt(h.meshSeconds, 0)} s of mesh time in ${fmt(h.seconds, 1)} s; ${fmt(h.proxyCpuMsEach, 2)} ms proxy CPU each${h.reregistered > 0 ? `; ${h.reregistered} × 404 → registered again` : ''}${failed.length > 0 ? `; FAILED ${failed.join(', ')}` : ''}`,
    ),
    ...r.services.map((s, p) =>
      row(`GET /v1/services, proxy ${p + 1}`, s, undefined, '', `${fmt(s.bytes / 1024, 0)} KiB; one proxy at a time beside the heartbeats, ≥ ${o.sampleGapMs} ms and ≥ 4× its time apart`),
    ),
  ];
  const widths = header.map((x, i) => Math.max(x.length, ...rows.map((c) => (c[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i >= cells.length - 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = [
    `multi-proxy: ${o.proxies} mesh-proxy processes on ${o.store === 'postgres' ? 'one PostgreSQL' : 'sql.js files of their own (nothing shared: machinery only)'}, ${o.instances} instances (${o.services} services, ${o.toolsPerInstance} tools each, loopback URLs never served), instance i on proxy i mod ${o.proxies}, removed after ${o.removeAfterS} s silent; proxies ready in ${fmt(r.proxyReadyMs, 0)} ms`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    pgLine('PostgreSQL during registration', r.registration.pg),
    pgLine(`PostgreSQL during heartbeats (${fmt(h.achievedPerSec, 0)} beats/s)`, h.pg),
    `proxies' CPU (sum, share of one core) / waiting for a CPU (mean share of the phase; high = starved by other load): registration ${fmt(r.registration.proxyCpuPct, 0)}% / ${fmt(r.registration.proxyCpuWaitPct, 0)}%, heartbeats ${fmt(h.proxyCpuPct, 0)}% / ${fmt(h.proxyCpuWaitPct, 0)}%; instances per proxy at the end (GET /healthz): ${r.instancesPerProxy.join(', ')}`,
  ];
  const c = r.routed;
  if (c) {
    lines.push(
      `routed calls through one proxy (proxy-tool route; both routes side by side, ${c.rounds.length / 2} pairs of alternating windows; medians): PostgreSQL ${fmt(c.postgres.callsPerSec, 0)}/s (proxy ${fmt(c.postgres.proxyCpuUsPerCall, 0)} µs CPU/call) vs sql.js ${fmt(c.sqljs.callsPerSec, 0)}/s (${fmt(c.sqljs.proxyCpuUsPerCall, 0)} µs); median of the pairs' ratios ${fmt(c.ratio * 100, 1)}% (proxy CPU per call ${fmt(c.cpuRatio * 100, 1)}%); target ≥ ${MULTI_TARGETS.routedRatio * 100}%: ${verdict(c.ratio >= MULTI_TARGETS.routedRatio)}`,
    );
  }
  return lines.join('\n');
}
