// One service: its instances with their load, calls/s, latency and error-rate charts over 15 minutes
// (uPlot, from GET /v1/services/:name/series), and its events timeline (GET /v1/events/recent plus the stream).
import { api, badge, clock, esc, ms, span } from './util.js';

const view = document.getElementById('view-service');
const TIMELINE = 100;
let current; // the service name shown
let charts = [];
let timeline = [];

function eventText(e) {
  switch (e.type) {
    case 'joined':
      return `instance ${e.instance} joined at ${e.url}`;
    case 'left':
      return `instance ${e.instance} left (${e.reason}${e.by ? `, by ${e.by}` : ''})`;
    case 'status':
      return `instance ${e.instance}: ${e.previous} → ${e.status} (${e.reason})`;
    case 'tools':
      return `instance ${e.instance} changed its tools (${e.toolCount} now)`;
    default:
      return `${e.type ?? 'event'} ${e.instance ?? ''}`;
  }
}

function renderTimeline() {
  const list = document.getElementById('svc-timeline');
  if (!list) return;
  list.innerHTML =
    timeline.map((e) => `<li><span class="mono small muted">${esc(clock(e.at))}</span> ${badge(e.type, `ev-${e.type}`)} ${esc(eventText(e))}</li>`).join('') ||
    '<li class="muted">No event seen for this service yet.</li>';
}

function instanceRows(service, now) {
  return service.instances
    .map((i) => {
      const load = i.load ?? {};
      return `<tr><td class="mono small">${esc(i.id)}</td><td>${badge(i.status)}</td><td>${esc(i.state)}</td><td class="mono small">${esc(i.url)}</td>
<td class="num">${esc(i.pid ?? '—')}</td><td>${esc(i.kind)} ${esc(i.version)}</td><td class="num">${span(now - i.registeredAt)}</td><td class="num">${span(now - i.lastHeartbeat)} ago</td>
<td class="num">${esc(load.inFlight ?? i.inflight ?? '—')}</td><td class="num">${esc(load.calls5m ?? i.calls ?? '—')}</td><td class="num">${ms(load.p50Ms)} / ${ms(load.p95Ms)}</td>
<td class="num">${load.errorRate === undefined ? '—' : `${(load.errorRate * 100).toFixed(1)}%`}</td><td>${esc(i.circuit?.state ?? '—')}${load.lastError ? ` <span class="error small" title="${esc(new Date(load.lastError.at).toISOString())}">${esc(load.lastError.code ?? '')} ${esc(load.lastError.message)}</span>` : ''}</td></tr>`;
    })
    .join('');
}

function chart(uPlot, target, title, series, data, unit) {
  const width = Math.max(280, target.clientWidth - 8);
  const opts = {
    title,
    width,
    height: 180,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
    axes: [{}, { values: (_u, ticks) => ticks.map((v) => `${v}${unit}`), size: 56 }],
    series: [{}, ...series],
    legend: { live: false },
  };
  return new uPlot(opts, data, target);
}

async function renderCharts(name) {
  const box = document.getElementById('svc-charts');
  let answer;
  try {
    answer = await api(`/v1/services/${encodeURIComponent(name)}/series?minutes=15`);
  } catch (error) {
    if (current === name) box.innerHTML = `<p class="muted">No series from this proxy (${esc(error.status === 404 ? 'it has no /v1/services/:name/series' : error.message)}).</p>`;
    return;
  }
  if (current !== name) return;
  const points = answer.points ?? [];
  const perSecond = (answer.bucketMs ?? 10_000) / 1000;
  const xs = points.map((p) => p.at / 1000);
  const data = [
    [xs, points.map((p) => p.calls / perSecond)],
    [xs, points.map((p) => p.p50Ms ?? null), points.map((p) => p.p95Ms ?? null)],
    [xs, points.map((p) => (p.calls ? (100 * p.errors) / p.calls : 0))],
  ];
  if (charts.length === 3 && charts[0].root.isConnected) return charts.forEach((c, i) => c.setData(data[i]));
  // uPlot is loaded when the first chart is drawn, not with the page.
  const { default: uPlot } = await import('./uplot.js');
  if (current !== name) return;
  for (const c of charts) c.destroy();
  box.innerHTML = '<div class="chart" id="ch-rate"></div><div class="chart" id="ch-latency"></div><div class="chart" id="ch-errors"></div>';
  charts = [
    chart(uPlot, document.getElementById('ch-rate'), 'Calls / s', [{ label: 'calls/s', stroke: '#2563eb', fill: 'rgba(37,99,235,0.12)' }], data[0], ''),
    chart(
      uPlot,
      document.getElementById('ch-latency'),
      'Latency',
      [
        { label: 'p50', stroke: '#059669' },
        { label: 'p95', stroke: '#d97706' },
      ],
      data[1],
      ' ms',
    ),
    chart(uPlot, document.getElementById('ch-errors'), 'Error rate', [{ label: 'errors', stroke: '#dc2626', fill: 'rgba(220,38,38,0.12)' }], data[2], '%'),
  ];
}

/** Shows service `name` (its row from the services list, or a not-found note); `seen` = events this page saw. */
export async function showService(name, services, seen, features = {}) {
  const changed = current !== name;
  current = name;
  const service = services.find((s) => s.name === name);
  if (!service) {
    view.innerHTML = `<p class="muted">No service named <strong>${esc(name)}</strong> is registered now. <a href="#services">All services</a></p>`;
    return;
  }
  const now = Date.now();
  if (changed || !document.getElementById('svc-instances')) {
    view.innerHTML = `<div class="svc-head"><a href="#services" class="muted">Services /</a> <h2>${esc(service.name)}</h2> <span id="svc-badge"></span>
<span class="muted" id="svc-facts"></span> <a href="#tools" class="muted">tools →</a></div>
<table class="grid"><thead><tr><th>Instance</th><th>Status</th><th>Child</th><th>URL</th><th class="num">PID</th><th>Kind</th><th class="num">Uptime</th><th class="num">Heartbeat</th><th class="num">In flight</th><th class="num">Calls</th><th class="num">p50 / p95</th><th class="num">Errors</th><th>Circuit</th></tr></thead><tbody id="svc-instances"></tbody></table>
<h3>Last 15 minutes</h3><div id="svc-charts" class="charts"><p class="muted">Loading…</p></div>
<h3>Events</h3><ul id="svc-timeline" class="timeline"></ul>`;
    charts = [];
    timeline = seen.filter((e) => e.service === name);
    // Without the proxy's recent events, each live instance's registration is still known.
    if (!features.recent) {
      for (const i of service.instances)
        if (!timeline.some((e) => e.type === 'joined' && e.instance === i.id)) timeline.push({ type: 'joined', service: name, instance: i.id, url: i.url, at: i.registeredAt });
      timeline.sort((a, b) => b.at - a.at);
    }
    renderTimeline();
    if (features.series) void renderCharts(name);
    else document.getElementById('svc-charts').innerHTML = '<p class="muted">Charts appear when this proxy serves <code>/v1/services/:name/series</code>.</p>';
    if (features.recent)
      void api(`/v1/events/recent?service=${encodeURIComponent(name)}&limit=${TIMELINE}`).then(
        (answer) => {
          if (current !== name) return;
          const known = new Set(timeline.map((e) => `${e.type} ${e.instance} ${e.at}`));
          timeline = [...timeline, ...(answer.events ?? []).filter((e) => !known.has(`${e.type} ${e.instance} ${e.at}`))].sort((a, b) => b.at - a.at).slice(0, TIMELINE);
          renderTimeline();
        },
        () => undefined, // an older proxy: the events this page saw are all there is
      );
  }
  document.getElementById('svc-badge').innerHTML = badge(service.status);
  document.getElementById('svc-facts').textContent =
    `${service.healthyCount}/${service.instanceCount} healthy · ${service.toolCount} tools · ${service.calls ?? 0} calls${service.tags.length ? ` · ${service.tags.join(', ')}` : ''}`;
  document.getElementById('svc-instances').innerHTML = instanceRows(service, now);
}

/** A live registry event: onto the timeline when it is the shown service's. */
export function serviceEvent(event) {
  if (event.service !== current) return;
  timeline.unshift(event);
  if (timeline.length > TIMELINE) timeline.length = TIMELINE;
  renderTimeline();
}

/** Redraws the charts (every few seconds while the view is shown). */
export const refreshCharts = (features = {}) => current && features.series && void renderCharts(current);

/** The view was left. */
export function leaveService() {
  current = undefined;
  for (const c of charts) c.destroy();
  charts = [];
}
