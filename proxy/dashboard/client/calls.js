// The calls view: the audit trail, newest first, filtered on the proxy (GET /v1/audit) and again here
// (a proxy that ignores a filter still shows only what matches), live from `call` events.
import { api, badge, bytes, clock, esc, ms, sinceToEpoch } from './util.js';

const LIMIT = 200;
const form = document.getElementById('call-filter');
const body = document.querySelector('#calls-table tbody');
const summary = document.getElementById('calls-summary');
const empty = document.getElementById('calls-empty');

let entries = [];
const open = new Set(); // ids whose detail row is shown
let liveCalls = false; // true once the stream has carried a `call` event: no polling needed

function filters() {
  const data = new FormData(form);
  const get = (name) => String(data.get(name) ?? '').trim();
  return { service: get('service'), tool: get('tool'), caller: get('caller'), outcome: get('outcome'), since: get('since'), errors: data.get('errors') === '1' };
}

function matches(entry, f) {
  if (f.service && entry.service !== f.service) return false;
  if (f.tool && entry.tool !== f.tool) return false;
  if (f.caller && (entry.caller ?? '') !== f.caller) return false;
  if (f.outcome && entry.outcome !== f.outcome) return false;
  if (f.errors && entry.outcome === 'ok') return false;
  const since = sinceToEpoch(f.since);
  return since === undefined || entry.at >= since;
}

function detailRow(e) {
  const fields = [
    ['call id', e.id],
    ['at', new Date(e.at).toISOString()],
    ['instance', e.instance],
    ['caller', e.caller],
    ['error', e.errorCode],
    ['request size', e.requestBytes === undefined ? undefined : bytes(e.requestBytes)],
    ['response size', e.responseBytes === undefined ? undefined : bytes(e.responseBytes)],
    ['hops', e.hops],
    ['trace id', e.traceId],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  return `<tr class="detail"><td colspan="8"><dl>${fields.map(([k, v]) => `<dt>${esc(k)}</dt><dd class="mono">${esc(v)}</dd>`).join('')}</dl></td></tr>`;
}

/** Rebuilds the table (one innerHTML write; one click listener on the body opens a call's detail). */
export function renderCalls() {
  const f = filters();
  const shown = entries.filter((e) => matches(e, f)).slice(0, LIMIT);
  body.innerHTML = shown
    .map(
      (e) => `<tr class="call${open.has(e.id) ? ' opened' : ''}" data-id="${esc(e.id)}">
<td class="mono small">${esc(clock(e.at))}</td><td>${esc(e.service)}</td><td class="mono">${esc(e.tool)}</td><td>${esc(e.caller ?? '—')}</td>
<td>${badge(e.outcome)}${e.errorCode ? ` <span class="muted small">${esc(e.errorCode)}</span>` : ''}</td>
<td class="num">${ms(e.durationMs)}</td><td class="num">${bytes(e.requestBytes)}</td><td class="num">${bytes(e.responseBytes)}</td></tr>${open.has(e.id) ? detailRow(e) : ''}`,
    )
    .join('');
  empty.hidden = shown.length > 0;
  summary.textContent = `${shown.length} call${shown.length === 1 ? '' : 's'}${liveCalls ? ' · live' : ''}`;
}

/** Fetches the trail with the current filters. */
export async function loadCalls() {
  const f = filters();
  const query = new URLSearchParams({ limit: String(LIMIT) });
  for (const key of ['service', 'tool', 'caller', 'outcome']) if (f[key]) query.set(key, f[key]);
  // Sent as ms since epoch, the form every proxy reads.
  const since = sinceToEpoch(f.since);
  if (since !== undefined) query.set('since', String(since));
  if (f.errors) query.set('errors', '1');
  try {
    entries = (await api(`/v1/audit?${query}`)).entries ?? [];
  } catch (error) {
    body.innerHTML = `<tr><td colspan="8" class="error">Could not read the audit trail: ${esc(error.message)}</td></tr>`;
    return;
  }
  renderCalls();
}

/** A `call` event from the stream: prepended (newest first) and shown if it matches. */
export function addCall(entry, visible) {
  liveCalls = true;
  if (entries.some((e) => e.id === entry.id)) return;
  entries.unshift(entry);
  if (entries.length > 2 * LIMIT) entries.length = 2 * LIMIT;
  if (visible) renderCalls();
}

/** True while no `call` events arrive (a proxy without them): the view then polls. */
export const callsNeedPolling = () => !liveCalls;

/** The view's listeners: the filter form (refetch, coalesced) and the table body (details). */
export function bindCalls(services) {
  let timer;
  const refetch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void loadCalls(), 200);
  };
  form.addEventListener('input', refetch);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    refetch();
  });
  body.addEventListener('click', (event) => {
    const row = event.target.closest('tr.call');
    if (!row) return;
    const id = Number(row.dataset.id);
    if (open.has(id)) open.delete(id);
    else open.add(id);
    renderCalls();
  });
  const datalist = document.getElementById('dl-services');
  return () =>
    (datalist.innerHTML = services()
      .map((s) => `<option value="${esc(s.name)}"></option>`)
      .join(''));
}
