#!/usr/bin/env node
import { constants } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { collect, packageVersion as version, portArg as int, positiveArg as seconds, wholeArg as whole } from '../src/cli-args.js';
import { readCa, readServerTls } from '../src/http/tls-trust.js';
import { createLogger } from '../src/log.js';
import { LOOPBACK_HOSTS } from '../src/http/host-guard.js';
import { meshHome } from '../src/mesh-home.js';
import { startProxy } from './proxy.js';
import { redactUrl } from './registry/store/pg-url.js';
import { loadManifest } from '../src/manifest/load.js';
import { enabledRemotes } from '../src/manifest/remotes.js';
import { SEPARATOR_PATTERN } from './mcp/namespacing.js';
import { startTracing, stopTracing } from '../src/tracing/tracing.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './router/json-post.js';

const program = new Command('mesh-proxy')
  .description('The MM mesh daemon: registry, health checks, routing, and one MCP endpoint for every service.')
  .version(version)
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port of the JSON API (/v1), /mcp, /healthz, /metrics', int, 6001)
  .option('--mcp-port <port>', "second port serving /mcp (the seed's MCP port; 0 disables it)", int, 6000)
  .option(
    '--registry <file | postgres://…>',
    'registry: a sql.js database file, or a PostgreSQL URL shared by several proxies (credentials from the URL or PG* variables)',
    join(meshHome(), 'registry.sqlite'),
  )
  .option('--proxy-id <id>', 'names this proxy in audit rows and logs (default hostname:port)')
  .option('--heartbeat-timeout <seconds>', 'remove an instance silent this long', seconds, 120)
  .option('--heartbeat-interval <seconds>', 'expected heartbeat interval (unhealthy after 3 missed)', seconds, 30)
  .option('--deadline <seconds>', 'deadline of a routed call', seconds, 60)
  .addOption(new Option('--token <token>', 'bearer token required on every request (required when bound beyond loopback)').env('MESH_TOKEN'))
  .option('--allow-host <hostname...>', 'extra hostnames accepted in Host/Origin')
  .option('--eject-after <failures>', 'eject an instance after this many instance failures in a row (circuit breaking)', whole, 5)
  .option('--ejection-time <seconds>', 'first ejection time; the n-th ejection lasts n times as long', seconds, 30)
  .option('--max-ejection-time <seconds>', 'longest ejection', seconds, 300)
  .option('--max-ejection-percent <percent>', "most of a service's healthy replicas ejected at once (at least one, never all)", whole, 50)
  .option('--session-idle-timeout <seconds>', 'close MCP sessions idle this long (their clients get 404 and initialize again)', seconds, 1800)
  .option('--max-sessions <n>', 'cap of open MCP sessions: a new one evicts the least recently used idle session, or gets 503 when all are busy', whole, 1000)
  .option('--drain-timeout <seconds>', 'on SIGTERM/SIGINT, how long calls in flight may finish before they are cut (a second signal stops at once)', seconds, 15)
  .option('--separator <sep>', 'between service and tool in the MCP endpoint\'s tool names (1-4 of A-Z a-z 0-9 _ -, with a "_" or "-")', '__')
  .option('--manifest <file>', "serve this manifest's named views at /mcp/<view> and register its remote servers (url:); mesh up passes its manifest, PUT /v1/views and /v1/remotes replace them later")
  .option('--max-response-bytes <bytes>', 'largest answer read from an instance (one JSON body or SSE event); a larger one fails its call, naming this limit', whole, DEFAULT_MAX_RESPONSE_BYTES)
  .option('--tls-cert <pem>', 'serve HTTPS with this certificate (with --tls-key)')
  .option('--tls-key <pem>', 'the private key of --tls-cert')
  .addOption(new Option('--ca <pem>', 'trust these CAs (besides the system store) when calling https instances').env('MESH_CA'))
  .option(
    '--allow-instances <cidrs>',
    'accept instances whose URL host is an IP address in these networks (comma-separated CIDRs, repeatable; loopback always; none by default)',
    collect,
    [] as string[],
  )
  .option('--allow-plain-http', 'accept registrations and heartbeats over plain HTTP from other hosts (refused by default: use TLS)')
  .addHelpText('after', '\nEnvironment: MESH_HOME (default ~/.mesh) holds the registry; MESH_PROXY_URL tells clients where the proxy is.\n');

program.parse();
const opts = program.opts<{
  host: string;
  port: number;
  mcpPort: number;
  registry: string;
  proxyId?: string;
  heartbeatTimeout: number;
  heartbeatInterval: number;
  deadline: number;
  token?: string;
  allowHost?: string[];
  ejectAfter: number;
  ejectionTime: number;
  maxEjectionTime: number;
  maxEjectionPercent: number;
  drainTimeout: number;
  sessionIdleTimeout: number;
  maxSessions: number;
  maxResponseBytes: number;
  tlsCert?: string;
  tlsKey?: string;
  ca?: string;
  allowInstances: string[];
  allowPlainHttp?: boolean;
  manifest?: string;
  separator: string;
}>();
const log = createLogger('mesh-proxy');

if (opts.maxEjectionPercent > 100) program.error(`error: --max-ejection-percent ${opts.maxEjectionPercent}: expected a percentage, 1-100`);
if (!SEPARATOR_PATTERN.test(opts.separator)) program.error(`error: --separator ${JSON.stringify(opts.separator)}: use 1-4 characters of A-Z, a-z, 0-9, "_" or "-", at least one "_" or "-"`);
if (!LOOPBACK_HOSTS.includes(opts.host) && !opts.token) {
  program.error(`error: --host ${opts.host} exposes the mesh beyond this machine; set --token (or MESH_TOKEN) so every request must carry it`);
}

try {
  const tls = readServerTls(opts.tlsCert, opts.tlsKey);
  const ca = readCa(opts.ca);
  // Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the OTel SDK is not even loaded otherwise.
  await startTracing('mesh-proxy');
  const manifest = opts.manifest === undefined ? undefined : await loadManifest(opts.manifest);
  const proxy = await startProxy({
    host: opts.host,
    port: opts.port,
    mcpPort: opts.mcpPort,
    registry: opts.registry,
    proxyId: opts.proxyId,
    heartbeatTimeoutMs: opts.heartbeatTimeout * 1000,
    heartbeatIntervalMs: opts.heartbeatInterval * 1000,
    deadlineMs: opts.deadline * 1000,
    token: opts.token,
    allowedHosts: opts.allowHost,
    drainTimeoutMs: opts.drainTimeout * 1000,
    sessionIdleMs: opts.sessionIdleTimeout * 1000,
    maxSessions: opts.maxSessions,
    maxResponseBytes: opts.maxResponseBytes,
    tls,
    ca,
    allowInstances: opts.allowInstances,
    allowPlainHttp: opts.allowPlainHttp === true,
    views: manifest?.views,
    remotes: manifest && enabledRemotes(manifest),
    separator: opts.separator,
    version,
    log,
    outlier: {
      consecutiveFailures: opts.ejectAfter,
      baseEjectionMs: opts.ejectionTime * 1000,
      maxEjectionMs: opts.maxEjectionTime * 1000,
      maxEjectionPercent: opts.maxEjectionPercent,
    },
  });
  if (!LOOPBACK_HOSTS.includes(opts.host) && !tls && opts.allowPlainHttp !== true) {
    log.warn('plain HTTP beyond loopback: registrations from other hosts are refused (403) until the proxy serves TLS (--tls-cert, --tls-key) or gets --allow-plain-http');
  }
  const extra = proxy.mcpPort ? ` (MCP also on port ${proxy.mcpPort})` : '';
  process.stdout.write(`mesh-proxy: ready at ${proxy.url} — MCP endpoint ${proxy.url}/mcp${extra}, registry ${redactUrl(opts.registry)}\n`);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`second ${signal}: exiting now`);
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    log.info(`${signal}: stopping (draining calls in flight up to ${opts.drainTimeout} s; send it again to stop at once)`);
    // Spans still in the batch are exported before the process ends.
    proxy.stop().then(
      () => stopTracing().then(() => process.exit(0)),
      (error: Error) => {
        log.error(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  process.stderr.write(`mesh-proxy: ${(error as Error).message}\n`);
  process.exit(2);
}
