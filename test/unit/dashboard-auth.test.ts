import type { IncomingMessage } from 'node:http';
import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { createProxyApp } from '../../proxy/app.js';
import { MeshCore } from '../../proxy/core.js';
import { checkedByDashboard, SESSION_COOKIE } from '../../proxy/dashboard/access.js';
import { MeshEndpoint } from '../../proxy/mcp/endpoint.js';
import { createProxyMetrics } from '../../proxy/metrics.js';
import { Registry } from '../../proxy/registry/registry.js';

// The dashboard's login, cookie, headers and guard, in-process (app.request()).
const TOKEN = 'dash-T0KEN';
const HOST = '127.0.0.1:6001';
const ORIGIN = `http://${HOST}`;

async function build(t: Test, token: string | null = TOKEN) {
  const registry = await Registry.open({});
  const metrics = createProxyMetrics({ instancesByStatus: () => registry.countByStatus() });
  const core = new MeshCore({ registry, deadlineMs: 2_000 });
  const endpoint = new MeshEndpoint(core, silentLogger, '0.0.0-test');
  const app = createProxyApp({ core, endpoint, metrics, token: token ?? undefined, version: '9.9.9' });
  t.teardown(async () => {
    await endpoint.close();
    await core.router.close();
    await registry.close();
  });
  const request = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { host: HOST, ...(init.headers as Record<string, string> | undefined) } });
  const login = async (token: string, origin = ORIGIN) =>
    request('/login', { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
  return { app, request, login };
}

// The `name=value` of a Set-Cookie header, for sending back.
const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';

t.test('without a token the page is served at once, under a strict Content-Security-Policy', async (t) => {
  const { request } = await build(t, null);
  const page = await request('/');
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, /id="view-services"/, 'the dashboard, no login');
  t.notMatch(html, /action="\/logout"/, 'no logout without a login');
  const csp = page.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"]) t.match(csp, directive, directive);
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'nothing inline, nothing from elsewhere');
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  t.equal(page.headers.get('x-frame-options'), 'DENY');
  t.notMatch(html, /<script>|<script type="module">|<style|style="/, 'no inline script or style in the page');
  for (const [file, type] of [
    ['app.js', /^text\/javascript/],
    ['uplot.js', /^text\/javascript/],
    ['uplot.css', /^text\/css/],
    ['style.css', /^text\/css/],
  ] as const) {
    const asset = await request(`/dashboard/${file}`);
    t.equal(asset.status, 200, file);
    t.match(asset.headers.get('content-type'), type, `${file}: its media type`);
    const again = await request(`/dashboard/${file}`, { headers: { 'if-none-match': asset.headers.get('etag') ?? '' } });
    t.equal(again.status, 304, `${file}: revalidated by its etag`);
  }
  t.equal((await request('/dashboard/nope.js')).status, 404);
  t.equal((await request('/v1/services')).status, 200, 'the API needs nothing either');
});

t.test('with a token: the login form, then 401 for the API and the scripts without a login', async (t) => {
  const { request } = await build(t);
  const page = await request('/');
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, /<form class="login-card" method="post" action="\/login">/, 'the login form');
  t.notMatch(html, /view-services|mesh-initial/, 'nothing of the mesh before the login');
  t.equal((await request('/v1/services')).status, 401, '/v1 without the token or a login: 401');
  t.equal((await request('/dashboard/app.js')).status, 401, 'the scripts want a login');
  t.equal((await request('/dashboard/catalog')).status, 401, 'the catalog wants a login');
  t.equal((await request('/dashboard/style.css')).status, 200, 'the login page’s stylesheet is public');
  t.equal((await request('/v1/services', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, 'the bearer token still works');
});

t.test('a wrong or empty token is a clear error and sets no cookie', async (t) => {
  const { login } = await build(t);
  const wrong = await login('not-the-token');
  t.equal(wrong.status, 401);
  t.match(await wrong.text(), /That token is wrong/);
  t.equal(wrong.headers.get('set-cookie'), null, 'no cookie');
  const empty = await login('');
  t.equal(empty.status, 400);
  t.match(await empty.text(), /Enter the proxy/);
  const foreign = await login(TOKEN, 'http://localhost:9999');
  t.equal(foreign.status, 403, 'a login posted from another origin is refused');
  t.equal(foreign.headers.get('set-cookie'), null);
});

t.test('the right token sets an HttpOnly SameSite=Strict cookie holding a random id, never the token', async (t) => {
  const { request, login } = await build(t);
  const first = await login(TOKEN);
  t.equal(first.status, 303);
  t.equal(first.headers.get('location'), '/');
  const setCookie = first.headers.get('set-cookie') ?? '';
  t.match(setCookie, new RegExp(`^${SESSION_COOKIE}=`));
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Strict/);
  t.match(setCookie, /Path=\//);
  const cookie = cookieOf(first);
  const value = cookie.split('=')[1] ?? '';
  t.not(value, TOKEN, 'the cookie is not the token');
  t.notOk(setCookie.includes(TOKEN), 'nor contains it');
  t.ok(value.length >= 40, 'a long random id');
  t.not(cookieOf(await login(TOKEN)), cookie, 'each login gets its own id');

  const page = await request('/', { headers: { cookie } });
  t.match(await page.text(), /action="\/logout"[\s\S]*id="view-services"/, 'the dashboard, with a logout');
  t.equal((await request('/v1/services', { headers: { cookie } })).status, 200, 'the login reads /v1');
  t.equal((await request('/v1/audit?limit=5', { headers: { cookie } })).status, 200);
  t.equal((await request('/dashboard/app.js', { headers: { cookie } })).status, 200, 'and the scripts');
  t.equal((await request('/v1/services', { headers: { cookie: `${SESSION_COOKIE}=forged` } })).status, 401, 'a forged id is nobody');
});

t.test('a login reaches only GETs of /v1 and same-origin tool calls; logout ends it', async (t) => {
  const { request, login } = await build(t);
  const cookie = cookieOf(await login(TOKEN));
  const call = (headers: Record<string, string>) =>
    request('/v1/services/fs/tools/read_text/call', { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: '{"arguments":{}}' });
  const noOrigin = await call({});
  t.equal(noOrigin.status, 403, 'a tool call without an Origin header: 403');
  t.match(await noOrigin.json(), { error: { code: 'FORBIDDEN', message: /must come from the dashboard page/ } });
  t.equal((await call({ origin: 'http://evil.example' })).status, 403, 'from another site: 403');
  t.equal((await call({ origin: 'http://localhost:6001' })).status, 403, 'from another origin of this machine: 403');
  const same = await call({ origin: ORIGIN });
  t.match(await same.json(), { error: { code: 'SERVICE_NOT_FOUND' } }, 'from the page itself it is routed (no such service here)');

  const register = await request('/v1/instances', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' });
  t.equal(register.status, 403, 'registering is not for a dashboard login');
  t.equal((await request('/metrics', { headers: { cookie } })).status, 403, 'nor /metrics');
  const mcp = await request('/mcp', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
  t.equal(mcp.status, 403, 'nor /mcp');

  const out = await request('/logout', { method: 'POST', headers: { cookie, origin: ORIGIN } });
  t.equal(out.status, 303);
  t.match(out.headers.get('set-cookie'), /Max-Age=0/, 'the cookie is cleared');
  t.equal((await request('/v1/services', { headers: { cookie } })).status, 401, 'the old id no longer works');
});

t.test('the Host/Origin guard still comes first on the dashboard', async (t) => {
  const { app } = await build(t);
  t.equal((await app.request('/', { headers: { host: 'evil.example' } })).status, 403, 'a foreign Host');
  t.equal((await app.request('/login', { method: 'POST', headers: { host: HOST, origin: 'http://evil.example' } })).status, 403, 'a foreign Origin');
});

t.test('the front door leaves to the app only the dashboard and cookie-carrying requests, never /mcp', async (t) => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const cookie = `${SESSION_COOKIE}=abc`;
  t.ok(checkedByDashboard('/', req({})), 'the page (its login form)');
  t.ok(checkedByDashboard('/dashboard/app.js', req({})));
  t.ok(checkedByDashboard('/v1/services', req({ cookie })), 'a cookie, no Authorization');
  t.notOk(checkedByDashboard('/v1/services', req({})), 'no cookie: the bearer token');
  t.notOk(checkedByDashboard('/v1/services', req({ cookie, authorization: 'Bearer x' })), 'an Authorization header is checked as always');
  t.notOk(checkedByDashboard('/mcp', req({ cookie })), '/mcp never');
  t.notOk(checkedByDashboard('/metrics', req({ cookie: 'other=1' })), 'another cookie is nothing');
});
