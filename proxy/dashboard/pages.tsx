import type { Child } from 'hono/jsx';

// The server-rendered pages: a shell the client scripts fill (proxy/dashboard/client/), and the login form.
// No inline script or style anywhere (the Content-Security-Policy allows neither).

function Shell(props: { title: string; children: Child; bodyClass?: string; styles?: string[]; modules?: string[] }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/dashboard/style.css" />
        {(props.styles ?? []).map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        {(props.modules ?? []).map((href) => (
          <link rel="modulepreload" href={href} />
        ))}
      </head>
      <body class={props.bodyClass}>{props.children}</body>
    </html>
  );
}

/** The login form (when the proxy has a token): the token is POSTed, never put in a URL. */
export function LoginPage(props: { error?: string | undefined }) {
  return (
    <Shell title="MM mesh · log in" bodyClass="login">
      <form class="login-card" method="post" action="/login">
        <h1>
          MM <span>mesh</span>
        </h1>
        <p class="muted">This proxy requires its token (the one given with --token or MESH_TOKEN).</p>
        {props.error ? (
          <p class="error" role="alert" id="login-error">
            {props.error}
          </p>
        ) : null}
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit">Log in</button>
      </form>
    </Shell>
  );
}

// The page's modules, fetched at once rather than as their imports are found (uPlot comes later, with the first chart).
const MODULES = ['app.js', 'util.js', 'live.js', 'services.js', 'tools.js', 'calls.js', 'service.js'].map((file) => `/dashboard/${file}`);

const tab = (view: string, label: string) => (
  <a href={`#${view}`} data-view={view}>
    {label}
  </a>
);

/** The dashboard's shell; `initial` is the services answer, embedded as a JSON data block (not a script). */
export function DashboardPage(props: { initial: string; loginRequired: boolean; version: string }) {
  return (
    <Shell title="MM mesh" styles={['/dashboard/uplot.css', '/dashboard/views.css']} modules={MODULES}>
      <header class="top">
        <a class="brand" href="#services">
          MM <span>mesh</span>
        </a>
        <nav id="tabs">
          {tab('services', 'Services')}
          {tab('tools', 'Tools')}
          {tab('calls', 'Calls')}
        </nav>
        <div class="top-right">
          <span id="live" class="live" title="the event stream">
            connecting…
          </span>
          <span class="muted">v{props.version}</span>
          {props.loginRequired ? (
            <form method="post" action="/logout">
              <button type="submit" class="link">
                Log out
              </button>
            </form>
          ) : null}
        </div>
      </header>
      <main>
        <section id="view-services" class="view">
          <div class="toolbar">
            <input id="svc-search" type="search" placeholder="Filter by service, tag or port" aria-label="filter services" />
            <select id="svc-status" aria-label="status">
              <option value="">any status</option>
              {['healthy', 'starting', 'unhealthy', 'restarting', 'crashloop'].map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
            <span id="svc-summary" class="summary"></span>
          </div>
          <table class="grid" id="svc-table">
            <thead>
              <tr>
                <th>Service</th>
                <th>Status</th>
                <th>Instance</th>
                <th class="num">Port</th>
                <th class="num">PID</th>
                <th class="num">Uptime</th>
                <th class="num">Restarts</th>
                <th class="num">Tools</th>
                <th>Tags</th>
                <th class="num">Heartbeat</th>
                <th class="num">Calls/1m</th>
                <th class="num">p95</th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
          <p id="svc-empty" class="empty" hidden>
            No service is registered yet. Start one with <code>mesh-sidecar --name NAME -- COMMAND</code>.
          </p>
        </section>
        <section id="view-tools" class="view" hidden>
          <div class="split">
            <aside class="tool-nav">
              <input id="tool-search" type="search" placeholder="Search tools and descriptions" aria-label="search tools" />
              <p id="tool-count" class="muted small"></p>
              <ul id="tool-list" class="tool-list"></ul>
            </aside>
            <div id="tool-detail" class="tool-detail">
              <p class="muted">Pick a tool to see its input schema and call it.</p>
            </div>
          </div>
        </section>
        <section id="view-calls" class="view" hidden>
          <form id="call-filter" class="toolbar">
            <input name="service" placeholder="service" list="dl-services" aria-label="service" />
            <input name="tool" placeholder="tool" aria-label="tool" />
            <input name="caller" placeholder="caller" aria-label="caller" />
            <select name="outcome" aria-label="outcome">
              <option value="">any outcome</option>
              <option value="ok">ok</option>
              <option value="tool_error">tool_error</option>
              <option value="error">error</option>
              <option value="timeout">timeout</option>
            </select>
            <select name="since" aria-label="since">
              <option value="">any time</option>
              <option value="5m">last 5 min</option>
              <option value="15m">last 15 min</option>
              <option value="1h">last hour</option>
              <option value="24h">last 24 h</option>
            </select>
            <label class="check">
              <input type="checkbox" name="errors" value="1" /> errors only
            </label>
            <span id="calls-summary" class="summary"></span>
          </form>
          <datalist id="dl-services"></datalist>
          <table class="grid" id="calls-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Service</th>
                <th>Tool</th>
                <th>Caller</th>
                <th>Outcome</th>
                <th class="num">Duration</th>
                <th class="num">Request</th>
                <th class="num">Response</th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
          <p id="calls-empty" class="empty" hidden>
            No call matches.
          </p>
        </section>
        <section id="view-service" class="view" hidden></section>
      </main>
      <script type="application/json" id="mesh-initial" dangerouslySetInnerHTML={{ __html: props.initial }}></script>
      <script type="module" src="/dashboard/app.js"></script>
    </Shell>
  );
}
