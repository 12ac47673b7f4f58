#!/usr/bin/env node
import { constants } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { collect, envPairs, packageVersion as version, portArg as port, positiveArg as positive, wholeArg } from '../src/cli-args.js';
import { MeshError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { parsePortRange } from '../src/http/ports.js';
import { proxyUrlsFrom } from '../src/client/proxy-url.js';
import { readCa, readServerTls } from '../src/http/tls-trust.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../src/stdio/line-reader.js';
import { startSidecar, type Sidecar } from './sidecar.js';
import { startTracing, stopTracing } from '../src/tracing/tracing.js';
import type { RestartPolicy } from './supervisor.js';

function backoffArg(value: string): { initialMs: number; maxMs: number } {
  const match = /^(\d+)-(\d+)$/.exec(value);
  if (!match || Number(match[1]) <= 0 || Number(match[1]) > Number(match[2])) throw new InvalidArgumentError('expected INITIAL-MAX in ms, e.g. 500-30000');
  return { initialMs: Number(match[1]), maxMs: Number(match[2]) };
}

const program = new Command('mesh-sidecar')
  .description('Serve an unmodified stdio MCP server over MCP Streamable HTTP, supervised, and join it to the mesh.')
  .version(version)
  .requiredOption('--name <name>', 'service name (e.g. fs)')
  .option('--port <port>', 'port to bind (0: any free port); default: first free port of --port-range', port)
  .option('--port-range <from-to>', 'ports to search when --port is not given (5060 and 5061 are skipped)', '5000-5099')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .addOption(
    new Option('--proxy <url>', 'mesh-proxy to register with (default http://127.0.0.1:6001); several (repeated or comma-separated) are tried in order, the next on a connection failure')
      .env('MESH_PROXY_URL')
      .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
  )
  .option('--no-proxy', 'run standalone: do not register with a mesh-proxy')
  .addOption(new Option('--token <token>', 'the mesh token: sent to the proxy, and required on every request to this sidecar (required when bound beyond loopback)').env('MESH_TOKEN'))
  .option('--tls-cert <pem>', 'serve HTTPS with this certificate (with --tls-key)')
  .option('--tls-key <pem>', 'the private key of --tls-cert')
  .addOption(new Option('--ca <pem>', 'trust these CAs (besides the system store) when calling an https proxy').env('MESH_CA'))
  .option('--advertise-url <url>', 'the URL registered with the proxy (what it calls); default: from --host, and for 0.0.0.0 the first non-internal IPv4 address')
  .option('--heartbeat <seconds>', 'heartbeat interval (jittered ±10%)', positive, 30)
  .option('--tag <tag>', 'tag for discovery (repeatable)', collect, [] as string[])
  .option('--cwd <dir>', 'working directory of the server process')
  .option('--env <KEY=VALUE>', 'environment variable for the server process (repeatable)', collect, [] as string[])
  .option('--allow-host <hostname>', 'extra hostname accepted in Host/Origin headers (repeatable)', collect, [] as string[])
  .addOption(
    new Option('--child-era <era>', 'which MCP era to speak to the server: auto (probe with server/discover, else initialize) or legacy (initialize, no probe)')
      .choices(['auto', 'legacy'])
      .default('auto'),
  )
  .option('--probe-timeout <ms>', 'how long the server may stay silent on the server/discover probe (which MCP era it speaks) before it counts as a legacy server', wholeArg, 10_000)
  .option('--deadline <seconds>', 'deadline of every forwarded request', positive, 60)
  .option('--max-message-bytes <bytes>', 'largest message the server may send (one stdout line); a longer one is discarded and fails its call', wholeArg, DEFAULT_MAX_MESSAGE_BYTES)
  .option('--session-idle-timeout <seconds>', 'close MCP sessions idle this long (their clients get 404 and initialize again)', positive, 1800)
  .option('--max-sessions <n>', 'cap of open MCP sessions: a new one evicts the least recently used idle session, or gets 503 when all are busy', wholeArg, 1000)
  .option('--drain-timeout <seconds>', 'on SIGTERM/SIGINT, how long calls in flight may finish (after deregistering) before they are cut', positive, 15)
  .option('--backoff <ms-ms>', 'restart backoff of a crashed child: initial-maximum delay in ms', backoffArg, { initialMs: 500, maxMs: 30_000 })
  .addOption(new Option('--restart <policy>', 'restart a child that ended: always, on-failure (not after exit code 0), never').choices(['always', 'on-failure', 'never']).default('always'))
  .option('--max-crashes <n>', 'crashes within --crash-window after which the child is a crash loop (not routed)', wholeArg, 5)
  .option('--crash-window <seconds>', 'window over which crashes are counted', positive, 60)
  .argument('<command>', 'the stdio MCP server to run (after --)')
  .argument('[args...]', 'its arguments')
  .showHelpAfterError()
  .addHelpText('after', '\nExample:\n  mesh-sidecar --name fs -- python3 examples/fs_server.py --root examples/texts\n');

// --no-proxy: standalone; else every --proxy (each may list several), else MESH_PROXY_URL, else the default.
function proxyUrls(value: string[] | string | false | undefined): string[] | undefined {
  if (value === false) return undefined;
  return proxyUrlsFrom(typeof value === 'string' ? [value] : value, {});
}

program.parse();
const opts = program.opts<{
  name: string;
  port?: number;
  portRange: string;
  host: string;
  proxy?: string[] | string | false;
  tlsCert?: string;
  tlsKey?: string;
  ca?: string;
  advertiseUrl?: string;
  token?: string;
  heartbeat: number;
  tag: string[];
  cwd?: string;
  env: string[];
  allowHost: string[];
  deadline: number;
  maxMessageBytes: number;
  probeTimeout: number;
  childEra: 'auto' | 'legacy';
  drainTimeout: number;
  sessionIdleTimeout: number;
  maxSessions: number;
  backoff: { initialMs: number; maxMs: number };
  restart: RestartPolicy;
  maxCrashes: number;
  crashWindow: number;
}>();
const [command, args] = program.processedArgs as [string, string[]];
const log = createLogger(opts.name);

if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(opts.name)) {
  program.error(`error: invalid --name "${opts.name}": use lowercase letters, digits, "-" and "_" (max 63, starting with a letter or digit)`);
}

// From `mesh up` (for `mesh restart`); taken out of the environment the child inherits.
const controlToken = process.env.MESH_CONTROL_TOKEN;
delete process.env.MESH_CONTROL_TOKEN;

// Signal handlers come first: a stop during a slow first start (npx, uvx) must reach the child's group.
const starting = new AbortController();
// The child runs in its own process group, so it outlives a sidecar that exits at once unless killed first.
const killing = new AbortController();
let sidecar: Sidecar | undefined;
let signals = 0;
// Spans still in the batch are exported before the process ends.
const stopAndExit = (running: Sidecar) =>
  running.stop().then(
    () => stopTracing().then(() => process.exit(0)),
    (error: Error) => {
      log.error(`stop failed: ${error.message}`);
      process.exit(1);
    },
  );
const shutdown = (signal: NodeJS.Signals) => {
  if (++signals > 1) {
    log.warn(`second ${signal}: killing the server's process group and exiting now`);
    killing.abort();
    process.exit(128 + constants.signals[signal]);
  }
  if (!sidecar) {
    log.info(`${signal} while the server is starting: stopping it`);
    starting.abort();
    return;
  }
  log.info(`${signal}: stopping (deregistering, then draining calls in flight up to ${opts.drainTimeout} s; send it again to stop at once)`);
  void stopAndExit(sidecar);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

try {
  // Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the OTel SDK is not even loaded otherwise.
  await startTracing(opts.name);
  sidecar = await startSidecar({
    name: opts.name,
    command,
    args,
    cwd: opts.cwd,
    env: envPairs(opts.env),
    host: opts.host,
    port: opts.port,
    portRange: parsePortRange(opts.portRange),
    proxy: proxyUrls(opts.proxy),
    tls: readServerTls(opts.tlsCert, opts.tlsKey),
    ca: readCa(opts.ca),
    advertiseUrl: opts.advertiseUrl,
    token: opts.token || undefined,
    heartbeatMs: opts.heartbeat * 1000,
    tags: opts.tag,
    allowedHosts: opts.allowHost,
    deadlineMs: opts.deadline * 1000,
    maxMessageBytes: opts.maxMessageBytes,
    probeTimeoutMs: opts.probeTimeout,
    childEra: opts.childEra,
    drainTimeoutMs: opts.drainTimeout * 1000,
    sessionIdleMs: opts.sessionIdleTimeout * 1000,
    maxSessions: opts.maxSessions,
    signal: starting.signal,
    killSignal: killing.signal,
    backoff: opts.backoff,
    restartPolicy: opts.restart,
    maxCrashes: opts.maxCrashes,
    crashWindowMs: opts.crashWindow * 1000,
    controlToken,
    version,
    log,
  });
  // A signal after the child was ready but before startSidecar returned found no sidecar to stop: stop it now.
  if (starting.signal.aborted) {
    log.info('stopping: a signal came while the sidecar finished starting');
    void stopAndExit(sidecar);
  } else {
    const h = sidecar.health();
    const status = h.state === 'ready' ? `${h.tools} tools, child pid ${h.pid}` : `child ${h.state}: ${h.lastError ?? 'see log'}`;
    process.stdout.write(`mesh-sidecar: ${opts.name} ready at ${sidecar.url} (${status})\n`);
  }
} catch (error) {
  if (starting.signal.aborted) process.exit(0);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mesh-sidecar: ${message}\n`);
  process.exit(error instanceof MeshError && (error.code === 'NO_FREE_PORT' || error.code === 'PORT_IN_USE') ? 3 : 1);
}
