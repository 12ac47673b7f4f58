// The services view: one row per instance, grouped by service, rebuilt in one innerHTML write (no per-row listeners).
import { badge, esc, ms, span } from './util.js';

const STATUSES = ['healthy', 'starting', 'unhealthy', 'restarting', 'crashloop'];
const form = {
  search: document.getElementById('svc-search'),
  status: document.getElementById('svc-status'),
};
const body = document.querySelector('#svc-table tbody');
const summary = document.getElementById('svc-summary');
const empty = document.getElementById('svc-empty');

/** Figures of an instance's load (absent on proxies that do not keep them). */
const loadOf = (instance, service) => instance.load ?? (service.instanceCount === 1 ? service.load : undefined) ?? {};

function matches(service, query, status) {
  if (status && service.status !== status && !service.instances.some((i) => i.status === status)) return false;
  if (!query) return true;
  const haystack = [service.name, ...service.tags, ...service.instances.map((i) => String(i.port))].join(' ').toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .every((word) => haystack.includes(word));
}

function instanceCells(instance, service, now) {
  const load = loadOf(instance, service);
  const restarts = load.restarts ?? instance.restarts;
  const calls1m = load.calls1m;
  return `<td>${badge(instance.status)}${instance.status !== 'healthy' && instance.state && instance.state !== 'ready' ? ` <span class="muted small">${esc(instance.state)}</span>` : ''}</td>
<td class="mono small" title="${esc(instance.url)}">${esc(instance.id)}</td>
<td class="num">${esc(instance.port)}</td>
<td class="num">${esc(instance.pid ?? '—')}</td>
<td class="num">${span(now - instance.registeredAt)}</td>
<td class="num${restarts > 0 ? ' warn' : ''}">${esc(restarts ?? '—')}</td>
<td class="num">${esc(instance.toolCount)}</td>
<td>${instance.tags.map((tag) => `<span class="chip">${esc(tag)}</span>`).join('')}</td>
<td class="num${now - instance.lastHeartbeat > 90_000 ? ' warn' : ''}">${span(now - instance.lastHeartbeat)} ago</td>
<td class="num">${esc(calls1m ?? '—')}</td>
<td class="num">${load.p95Ms === undefined ? '—' : ms(load.p95Ms)}</td>`;
}

/** Rebuilds the table from the services list (the proxy's GET /v1/services answer). */
export function renderServices(services, now = Date.now()) {
  const query = form.search.value.trim();
  const status = form.status.value;
  const rows = [];
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let shown = 0;
  for (const service of services) {
    counts[service.status] = (counts[service.status] ?? 0) + 1;
    if (!matches(service, query, status)) continue;
    shown++;
    const instances = [...service.instances].sort((a, b) => a.id.localeCompare(b.id));
    instances.forEach((instance, index) => {
      const first =
        index === 0
          ? `<td class="svc" rowspan="${instances.length}"><a href="#service/${encodeURIComponent(service.name)}">${esc(service.name)}</a>${
              service.instanceCount > 1 ? `<div class="muted small">${service.healthyCount}/${service.instanceCount} healthy</div>` : ''
            }${service.calls ? `<div class="muted small">${service.calls} calls</div>` : ''}${service.ejectedCount ? `<div class="warn small">${service.ejectedCount} ejected</div>` : ''}</td>`
          : '';
      rows.push(`<tr class="${index === 0 ? 'group' : 'sub'}" data-service="${esc(service.name)}">${first}${instanceCells(instance, service, now)}</tr>`);
    });
  }
  body.innerHTML = rows.join('');
  empty.hidden = services.length > 0;
  const parts = STATUSES.filter((s) => counts[s] > 0).map((s) => `${badge(`${counts[s]} ${s}`, s)}`);
  summary.innerHTML = `${services.length} service${services.length === 1 ? '' : 's'}${shown !== services.length ? ` (${shown} shown)` : ''} ${parts.join(' ')}`;
}

/** Re-renders when the filter changes (two listeners for the whole view). */
export function bindServiceFilters(rerender) {
  form.search.addEventListener('input', rerender);
  form.status.addEventListener('change', rerender);
}
