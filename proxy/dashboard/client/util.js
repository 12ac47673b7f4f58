// Small helpers shared by the dashboard's views: escaping, formatting, the JSON API.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for innerHTML (every value from the wire goes through it). */
export const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch]);

/** GETs or POSTs JSON; throws an Error carrying the API's `{ error: { code, message } }` and the HTTP status. */
export async function api(path, init = {}) {
  const response = await fetch(path, { credentials: 'same-origin', ...init, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    error.code = body?.error?.code;
    throw error;
  }
  return body;
}

/** "4s", "3m", "2h 5m", "6d". */
export function span(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

/** A duration in ms, to a readable precision. */
export function ms(value) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '—';
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 10_000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(1)} s`;
}

/** A byte count, to a readable unit. */
export function bytes(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** A wall-clock time: HH:MM:SS.mmm today, with the date otherwise. */
export function clock(at) {
  const d = new Date(at);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return d.toDateString() === new Date().toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** A status or outcome badge. */
export const badge = (text, kind = text) => `<span class="badge b-${esc(kind)}">${esc(text)}</span>`;

/** "10m", "1h", "30s" or a number of ms since epoch, as ms since epoch (undefined when empty or unreadable). */
export function sinceToEpoch(since, now = Date.now()) {
  if (!since) return undefined;
  const m = /^(\d+)(s|m|h|d)$/.exec(since);
  if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2]];
  const n = Number(since);
  return Number.isFinite(n) ? n : undefined;
}

/** Calls `fn` at most once per `wait` ms, at the end of a burst. */
export function coalesce(fn, wait) {
  let timer;
  return () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, wait);
  };
}
