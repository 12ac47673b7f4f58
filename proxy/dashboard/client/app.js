// The dashboard's entry: state from the page's embedded data, hash routing between views, the live stream.
import { addCall, bindCalls, callsNeedPolling, loadCalls, renderCalls } from './calls.js';
import { connectLive } from './live.js';
import { bindServiceFilters, renderServices } from './services.js';
import { leaveService, refreshCharts, serviceEvent, showService } from './service.js';
import { bindTools, markCatalogStale, showTools } from './tools.js';
import { api, coalesce } from './util.js';

const initial = JSON.parse(document.getElementById('mesh-initial').textContent || '{}');
const state = { services: initial.services ?? [], events: [], view: 'services', features: initial.features ?? {} };
const VIEWS = ['services', 'tools', 'calls', 'service'];
const MAX_EVENTS = 500;

function route() {
  const [view = 'services', ...rest] = location.hash.replace(/^#/, '').split('/').map(decodeURIComponent);
  return VIEWS.includes(view) ? { view, rest } : { view: 'services', rest: [] };
}

function show() {
  const { view, rest } = route();
  if (state.view === 'service' && view !== 'service') leaveService();
  state.view = view;
  for (const name of VIEWS) document.getElementById(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll('#tabs a')) link.classList.toggle('active', link.dataset.view === view);
  if (view === 'services') renderServices(state.services);
  if (view === 'tools') void showTools(rest);
  if (view === 'calls') {
    fillServiceNames();
    void loadCalls();
  }
  if (view === 'service') {
    void showService(rest[0] ?? '', state.services, state.events, state.features);
    refreshServices();
  }
}

// The services list, fetched again after registry events (coalesced: a burst of 200 joins is a request or two).
const refreshServices = coalesce(async () => {
  try {
    state.services = (await api('/v1/services')).services;
  } catch {
    return;
  }
  if (state.view === 'services') renderServices(state.services);
  if (state.view === 'service') void showService(route().rest[0] ?? '', state.services, state.events, state.features);
  fillServiceNames();
}, 100);

function onEvent(name, data) {
  if (name === 'call') return addCall(data, state.view === 'calls');
  if (name === 'hello') return refreshServices();
  state.events.unshift(data);
  if (state.events.length > MAX_EVENTS) state.events.length = MAX_EVENTS;
  serviceEvent(data);
  if (name !== 'status') markCatalogStale();
  if (name === 'tools' && state.view === 'tools') void showTools(route().rest);
  refreshServices();
}

bindServiceFilters(() => renderServices(state.services));
bindTools();
const fillServiceNames = bindCalls(() => state.services);
window.addEventListener('hashchange', show);
show();
// For the benchmark (test/bench/dashboard.ts): when the first view was on screen.
performance.mark('mesh:first-view');
connectLive(onEvent);

// Relative times move on; views without live figures are refreshed on a slow beat.
setInterval(() => {
  if (document.hidden) return;
  if (state.view === 'services') renderServices(state.services);
  if (state.view === 'calls' && callsNeedPolling()) void loadCalls();
  else if (state.view === 'calls') renderCalls();
}, 5_000);
// Heartbeat times and call counts change without events: the list is read again on a slow beat.
setInterval(() => {
  if (document.hidden) return;
  if (state.view === 'service') refreshCharts(state.features);
  if (state.view === 'service' || state.view === 'services') refreshServices();
}, 10_000);
