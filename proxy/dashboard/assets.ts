import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves, read once and kept in memory. */
export interface Asset {
  body: string;
  contentType: string;
  /** A strong validator (the content's digest), for If-None-Match. */
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The browser-side scripts and styles (plain files, no build step), by the name they are served under /dashboard/. */
const CLIENT_FILES: Record<string, string> = {
  'app.js': JS,
  'util.js': JS,
  'live.js': JS,
  'services.js': JS,
  'tools.js': JS,
  'calls.js': JS,
  'service.js': JS,
  'style.css': CSS,
  'views.css': CSS,
  'favicon.svg': 'image/svg+xml',
};

// The client folder beside this module when run from the sources (tsx), else the sources' folder seen from dist/.
function clientDir(): string {
  const here = fileURLToPath(new URL('./client/', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../proxy/dashboard/client/', import.meta.url));
}

function asset(body: string, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Every file of the dashboard, read from disk once (the client scripts, uPlot's ESM build and
 * stylesheet from node_modules): the proxy serves them from memory and fetches nothing from elsewhere.
 */
export function loadDashboardAssets(): Map<string, Asset> {
  const dir = clientDir();
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(CLIENT_FILES)) assets.set(name, asset(readFileSync(`${dir}${name}`, 'utf8'), type));
  const require = createRequire(import.meta.url);
  assets.set('uplot.js', asset(readFileSync(require.resolve('uplot/dist/uPlot.esm.js'), 'utf8'), JS));
  assets.set('uplot.css', asset(readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'), CSS));
  return assets;
}
