import type { IncomingMessage } from 'node:http';
import { parse } from 'hono/utils/cookie';
import { isProxyMcpUrl } from '../mcp/view-scope.js';

/** The dashboard's login cookie: a random session id, HttpOnly, SameSite=Strict. */
export const SESSION_COOKIE = 'mesh_dashboard';

/** The paths the dashboard serves itself: the page, its login and logout, its assets. */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/login' || path === '/logout' || path.startsWith('/dashboard/');
}

/** The one POST of /v1 a dashboard login may make: a tool call from the catalog's form. */
export const TOOL_CALL_PATH = /^\/v1\/services\/[^/]+\/tools\/[^/]+\/call$/;

/**
 * The front door's question for the proxy (src/http/front-door.ts, `checksOwnToken`): a request
 * the app checks itself. The dashboard's own paths (the login page must be reachable without the
 * token), and a request that carries the login cookie and no Authorization header, except on /mcp;
 * the app then admits it only with a live session, and only where a login may go.
 */
export function checkedByDashboard(url: string, req: IncomingMessage): boolean {
  if (isProxyMcpUrl(url)) return false;
  const path = url.split('?', 1)[0] ?? '';
  if (isDashboardPath(path)) return true;
  const cookie = req.headers.cookie;
  return req.headers.authorization === undefined && typeof cookie === 'string' && parse(cookie, SESSION_COOKIE)[SESSION_COOKIE] !== undefined;
}

/**
 * Where a dashboard login may go besides the dashboard: GETs of /v1 (the event stream included),
 * and a tool call POSTed from the page itself (its Origin is the proxy's own: a cross-site form
 * cannot make it, SameSite=Strict aside). Undefined when allowed, else why not.
 */
export function loginMayReach(method: string, path: string, host: string | undefined, origin: string | undefined): string | undefined {
  if ((method === 'GET' || method === 'HEAD') && path.startsWith('/v1/')) return undefined;
  if (method === 'POST' && TOOL_CALL_PATH.test(path))
    return sameOrigin(host, origin) ? undefined : 'a tool call with the dashboard login must come from the dashboard page (its Origin header must be this server)';
  return 'a dashboard login reaches only the dashboard, GETs of /v1 and tool calls; send "Authorization: Bearer <token>" for anything else';
}

/** True when the Origin header names this very server (scheme-less comparison of host and port, http or https). */
export function sameOrigin(host: string | undefined, origin: string | undefined): boolean {
  if (!host || !origin) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
