import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { parse } from 'hono/utils/cookie';
import { matchesSecret, secretDigest } from '../../src/http/bearer-token.js';
import type { MeshCore } from '../core.js';
import { loginMayReach, sameOrigin, SESSION_COOKIE } from './access.js';
import { loadDashboardAssets, type Asset } from './assets.js';
import { DashboardPage, LoginPage } from './pages.js';
import { DashboardSessions, SESSION_IDLE_MS } from './sessions.js';

export interface DashboardOptions {
  core: MeshCore;
  /** The proxy's token: when set, the page wants a login with it. */
  token?: string | undefined;
  version?: string;
  now?: () => number;
  /** The app's routes (Hono's `app.routes`), read when the page is served: the page asks only for what exists. */
  routes?: () => readonly { method: string; path: string }[];
}

/** The optional APIs the page uses when the proxy serves them (it never requests a route that is not there). */
const FEATURES = { series: ['GET', '/v1/services/:name/series'], recent: ['GET', '/v1/events/recent'] } as const;

/** The dashboard: its routes, and the one question the API's token check asks it. */
export interface Dashboard {
  /** The page, login, logout and assets (mounted before the API's token check; they check the login themselves). */
  app: Hono;
  /**
   * For a request without a valid bearer token: true when its login cookie admits it, a reason
   * when it carries a live login that may not go there, undefined when it carries none.
   */
  admits(request: { method: string; path: string; header(name: string): string | undefined }): true | string | undefined;
}

// The page's own policy: nothing inline, nothing from elsewhere, never framed.
const headers = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
  xFrameOptions: 'DENY',
  // The proxy speaks plain HTTP on loopback; HSTS is for whoever terminates TLS in front of it.
  strictTransportSecurity: false,
  referrerPolicy: 'same-origin',
  crossOriginResourcePolicy: 'same-origin',
});

/** Files served without a login: what the login page itself needs. */
const PUBLIC_ASSETS = new Set(['style.css', 'favicon.svg']);

/**
 * Builds the dashboard served at `/`: Hono JSX pages, plain client scripts and uPlot from memory,
 * a login with the proxy's token that sets an HttpOnly SameSite=Strict cookie holding a random
 * session id (never the token).
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { core } = options;
  const tokenDigest = options.token ? secretDigest(options.token) : undefined;
  const sessions = new DashboardSessions(options.now);
  const assets = loadDashboardAssets();
  const app = new Hono();
  const loggedIn = (c: Context) => tokenDigest === undefined || sessions.valid(getCookie(c, SESSION_COOKIE));

  app.get('/', headers, (c) => {
    c.header('cache-control', 'no-store');
    if (!loggedIn(c)) return c.html(LoginPage({}));
    // `<` escaped: the JSON sits in a data block that must not end early.
    const routes = options.routes?.() ?? [];
    const features = Object.fromEntries(Object.entries(FEATURES).map(([name, [method, path]]) => [name, routes.some((r) => r.method === method && r.path === path)]));
    const initial = JSON.stringify({ services: core.services({}), features, login: tokenDigest !== undefined }).replace(/</g, '\\u003c');
    return c.html(DashboardPage({ initial, loginRequired: tokenDigest !== undefined, version: options.version ?? '' }));
  });
  app.get('/login', headers, (c) => c.redirect('/', 303));
  app.post('/login', headers, bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    c.header('cache-control', 'no-store');
    if (tokenDigest === undefined) return c.redirect('/', 303);
    const origin = c.req.header('origin');
    if (origin !== undefined && !sameOrigin(c.req.header('host'), origin)) return c.html(LoginPage({ error: 'This login form must be sent from this server’s own page.' }), 403);
    const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
    const token = typeof form.token === 'string' ? form.token : '';
    if (token === '') return c.html(LoginPage({ error: 'Enter the proxy’s token.' }), 400);
    if (!matchesSecret(token, tokenDigest)) return c.html(LoginPage({ error: 'That token is wrong: use the one the proxy was started with (--token or MESH_TOKEN).' }), 401);
    setCookie(c, SESSION_COOKIE, sessions.create(), {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: SESSION_IDLE_MS / 1000,
    });
    return c.redirect('/', 303);
  });
  app.post('/logout', headers, (c) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !sameOrigin(c.req.header('host'), origin)) return c.text('logout must come from this server’s own page', 403);
    sessions.revoke(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  // Every service's tools in one answer, for the catalog (GET /v1/services lists counts only).
  app.get('/dashboard/catalog', headers, (c) => {
    if (!loggedIn(c)) return c.json({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized: log in to the dashboard' } }, 401);
    return c.json({ services: core.services({}).map((s) => ({ name: s.name, status: s.status, tools: core.toolsOf(s.name) })) });
  });
  app.get('/dashboard/:file', headers, (c) => {
    const name = c.req.param('file');
    const file = assets.get(name);
    if (!file) return c.json({ error: { code: 'NOT_FOUND', message: `no dashboard file ${name}` } }, 404);
    if (!PUBLIC_ASSETS.has(name) && !loggedIn(c)) return c.json({ error: { code: 'UNAUTHORIZED', message: 'Unauthorized: log in to the dashboard' } }, 401);
    return serve(c, file);
  });

  return {
    app,
    admits(request) {
      const cookie = request.header('cookie');
      if (tokenDigest === undefined || cookie === undefined || !sessions.valid(parse(cookie, SESSION_COOKIE)[SESSION_COOKIE])) return undefined;
      return loginMayReach(request.method, request.path, request.header('host'), request.header('origin')) ?? true;
    },
  };
}

// One in-memory file, revalidated by its digest.
function serve(c: Context, file: Asset): Response {
  c.header('etag', file.etag);
  c.header('cache-control', 'no-cache');
  if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
  return c.body(file.body, 200, { 'content-type': file.contentType });
}
