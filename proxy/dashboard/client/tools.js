// The tool catalog: every service's tools, searchable, and a form that calls one (POST /v1/services/:name/tools/:tool/call).
import { api, badge, esc, ms } from './util.js';

const search = document.getElementById('tool-search');
const list = document.getElementById('tool-list');
const count = document.getElementById('tool-count');
const detail = document.getElementById('tool-detail');

let catalog; // [{ name, status, tools }]
let stale = true;
let selected; // { service, tool }

/** The catalog is fetched again when next shown (a service joined, left or changed its tools). */
export const markCatalogStale = () => (stale = true);

/** Arguments to start the form with: each required property with an empty value of its type. */
function skeleton(schema) {
  const out = {};
  for (const key of schema?.required ?? []) {
    const type = schema.properties?.[key]?.type;
    const first = Array.isArray(type) ? type[0] : type;
    out[key] = first === 'number' || first === 'integer' ? 0 : first === 'boolean' ? false : first === 'array' ? [] : first === 'object' ? {} : '';
  }
  return JSON.stringify(out, null, 2);
}

function renderList() {
  if (!catalog) return;
  const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const items = [];
  let total = 0;
  for (const service of catalog) {
    const tools = service.tools.filter((tool) => {
      const text = `${service.name} ${tool.name} ${tool.title ?? ''} ${tool.description ?? ''}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    total += tools.length;
    if (tools.length === 0) continue;
    items.push(`<li class="tool-group">${esc(service.name)} ${service.status === 'healthy' ? '' : badge(service.status)}</li>`);
    for (const tool of tools) {
      const here = selected && selected.service === service.name && selected.tool === tool.name;
      items.push(
        `<li><a class="${here ? 'current' : ''}" href="#tools/${encodeURIComponent(service.name)}/${encodeURIComponent(tool.name)}"><span class="mono">${esc(tool.name)}</span><span class="muted small">${esc((tool.description ?? '').slice(0, 90))}</span></a></li>`,
      );
    }
  }
  list.innerHTML = items.join('') || '<li class="muted">No tool matches.</li>';
  count.textContent = `${total} tool${total === 1 ? '' : 's'} in ${catalog.length} service${catalog.length === 1 ? '' : 's'}`;
}

function renderDetail() {
  const service = catalog?.find((s) => s.name === selected?.service);
  const tool = service?.tools.find((t) => t.name === selected?.tool);
  if (!tool) {
    detail.innerHTML = `<p class="muted">${selected ? `No tool ${esc(selected.tool)} on ${esc(selected.service)}.` : 'Pick a tool to see its input schema and call it.'}</p>`;
    return;
  }
  detail.innerHTML = `<h2><span class="muted">${esc(service.name)} /</span> <span class="mono">${esc(tool.name)}</span></h2>
${tool.title ? `<p><strong>${esc(tool.title)}</strong></p>` : ''}
<p class="desc">${esc(tool.description ?? 'No description.')}</p>
<details open><summary>Input schema</summary><pre class="code">${esc(JSON.stringify(tool.inputSchema, null, 2))}</pre></details>
<form id="call-form" class="call-form">
  <label for="call-args">Arguments (JSON)</label>
  <textarea id="call-args" name="args" rows="6" spellcheck="false">${esc(skeleton(tool.inputSchema))}</textarea>
  <div class="row"><button type="submit" id="call-run">Call ${esc(tool.name)}</button><span id="call-status" class="muted"></span></div>
</form>
<div id="call-result"></div>`;
}

async function load() {
  const answer = await api('/dashboard/catalog');
  catalog = answer.services;
  stale = false;
}

/** Shows the catalog (fetching it when stale), with `route` = [service, tool] selected. */
export async function showTools(route) {
  selected = route.length >= 2 ? { service: route[0], tool: route[1] } : undefined;
  if (stale || !catalog) {
    try {
      await load();
    } catch (error) {
      list.innerHTML = `<li class="error">Could not load the catalog: ${esc(error.message)}</li>`;
      return;
    }
  }
  renderList();
  renderDetail();
}

// A call's answer: the tool's text content first, the whole result below.
function showResult(result, elapsed) {
  const box = document.getElementById('call-result');
  const texts = (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text);
  const failed = result?.isError === true;
  box.innerHTML = `<div class="result ${failed ? 'result-error' : 'result-ok'}">
<div class="result-head">${badge(failed ? 'tool_error' : 'ok')} <span class="muted">${ms(elapsed)}</span></div>
${texts.length ? `<pre class="code" id="call-text">${esc(texts.join('\n'))}</pre>` : ''}
<details${texts.length ? '' : ' open'}><summary>Result JSON</summary><pre class="code">${esc(JSON.stringify(result, null, 2))}</pre></details></div>`;
}

async function call(event) {
  event.preventDefault();
  const status = document.getElementById('call-status');
  const box = document.getElementById('call-result');
  let args;
  try {
    args = JSON.parse(document.getElementById('call-args').value || '{}');
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error('the arguments must be a JSON object');
  } catch (error) {
    box.innerHTML = `<div class="result result-error"><strong>Invalid arguments:</strong> ${esc(error.message)}</div>`;
    return;
  }
  const { service, tool } = selected;
  status.textContent = 'calling…';
  const started = performance.now();
  try {
    const result = await api(`/v1/services/${encodeURIComponent(service)}/tools/${encodeURIComponent(tool)}/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mesh-caller': 'dashboard' },
      body: JSON.stringify({ arguments: args }),
    });
    showResult(result, performance.now() - started);
  } catch (error) {
    box.innerHTML = `<div class="result result-error" id="call-error">${badge('error')} <strong>${esc(error.code ?? `HTTP ${error.status}`)}</strong> ${esc(error.message)}</div>`;
  } finally {
    status.textContent = '';
  }
}

/** The view's two listeners: the search box and the form (delegated, it is rebuilt per tool). */
export function bindTools() {
  search.addEventListener('input', renderList);
  detail.addEventListener('submit', (event) => void call(event));
}
