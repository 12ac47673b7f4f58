import { DEFAULT_MESH_OPTIONS, QUICK_MESH_OPTIONS, type MeshSuiteOptions } from './mesh-suite.js';
import { DEFAULT_REGISTRY_OPTIONS, type RegistryScaleOptions } from './registry-scale.js';
import { DEFAULT_FAULTS_OPTIONS, type FaultsOptions } from './faults-suite.js';
import { DEFAULT_DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard.js';
import { DEFAULT_MULTI_OPTIONS, QUICK_MULTI_OPTIONS, type MultiProxyOptions } from './multi-proxy.js';

/** Which suites run: the echo paths, the registry-scale suite, the mesh suite, the faults suite, the dashboard suite, the views suite, the multi-proxy suite, the sidecar host suite, or all of them (the default). */
export type Suite = 'all' | 'echo' | 'registry' | 'mesh' | 'faults' | 'dashboard' | 'views' | 'multi-proxy' | 'host';
const SUITES: readonly Suite[] = ['all', 'echo', 'registry', 'mesh', 'faults', 'dashboard', 'views', 'multi-proxy', 'host'];

/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  quick: boolean;
  suite: Suite;
  registry: RegistryScaleOptions;
  mesh: MeshSuiteOptions;
  faults: FaultsOptions;
  dashboard: DashboardOptions;
  multiProxy: MultiProxyOptions;
  /** Path names to run, in report order; empty means all. */
  paths: string[];
  rounds: number;
  concurrency: number;
  warmupCalls: number;
  sequentialCalls: number;
  /** The sequential phase stops after this long even if fewer calls were made (at least 100). */
  sequentialMaxMs: number;
  throughputMs: number;
  throughputMaxCalls: number;
  /** Unmeasured burst at full concurrency before the throughput window. */
  throughputWarmupMs: number;
  sdk: boolean;
  /** SDK figures in every round; by default only in the last round (they are secondary and cost run time). */
  sdkEveryRound: boolean;
  sdkWarmupCalls: number;
  sdkSequentialCalls: number;
  sdkSequentialMaxMs: number;
  sdkThroughputMs: number;
  sdkThroughputMaxCalls: number;
  /** Run HTTP bridges under `node --cpu-prof` and summarize where they spend CPU under load. */
  cpuProf: boolean;
  /** Sampling interval of --cpu-prof in µs (node's default is 1000; smaller perturbs the bridge more). */
  cpuProfIntervalUs: number;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick              smoke run: 1 round, few calls, a short registry suite
  --suite S            all (default), echo (the paths only), registry (the registry-scale suite only)
                       or mesh (file polling vs mesh.call, and mesh up of configs/demo.yaml)
                       or faults (session flood and drain on SIGTERM)
                       or host (mesh up of eleven fs_server.py in the sidecar host: RSS, start-up, hosted vs isolated calls/s)
                       or dashboard (the proxy's page at N services in headless chromium)
                       or views (tools/list size of /mcp, /mcp/discovery and each view of configs/factory.yaml);
                       or multi-proxy (3 proxies on one PostgreSQL; skipped where it is not installed);
                       --paths or --cpu-prof without --suite mean echo
  --paths a,b          only these paths (default: all; see the list printed at start)
  --rounds N           interleaved rounds per path (default 3, quick 1); medians are reported
  --concurrency N      calls in flight for the throughput figure (default 32)
  --no-sdk             skip the MCP SDK client's end-to-end figures
  --sdk-every-round    measure the SDK client in every round (default: the last round only)
  --cpu-prof           profile the HTTP bridges (node --cpu-prof) and print their top self-time
                       functions during the throughput window (default paths: sidecar; 1 round)
                       with --suite multi-proxy: its proxies, over the heartbeat phase
  --cpu-prof-interval N  sampling interval in µs (default 1000)
registry suite (one proxy; N instances register, then heartbeat while the listings are timed):
  --registry-instances N    instances (default 1000)
  --registry-services N     service names they spread over as replicas (default 250)
  --registry-tools N        tools per instance (default 10)
  --registry-concurrency N  registrations/heartbeats in flight (default 16)
  --registry-compression N  paced heartbeat rate as a multiple of N per 30 s (default 10)
  --registry-rounds N       rounds of all N heartbeats in the paced phase (default 3, quick 1)
mesh suite (a tool of examples/fs_server.py by file polling and by mesh.call; mesh up of the demo manifest):
  --mesh-samples N     sequential calls per route (default 100, quick 30)
  --mesh-rounds N      mesh up / mesh down rounds (default 3, quick 2)
faults suite (abandoned sessions: RSS before, at peak, after expiry; calls in flight at SIGTERM):
  --faults-sessions N  sessions opened and abandoned per target (default 4000, quick 500)
  --faults-idle S      idle timeout given to the proxy and sidecar, seconds (default 5)
  --faults-settle S    seconds after expiry at which RSS is read again (default 30)
  --faults-calls N     calls in flight when the proxy gets SIGTERM (default 8)
  --faults-call-ms N   duration of each of those calls (default 400)
  --faults-build DIR   run against the dist/ of another checkout (e.g. an older one)
  --faults-legacy      that build predates --session-idle-timeout: do not pass it
dashboard suite (Debian's chromium; skipped with a line naming the package where it is missing):
  --dashboard-services N  registered services (default 200)
  --dashboard-loads N     page loads measured (default 7, quick 3)
multi-proxy suite (proxies on one PostgreSQL cluster the bench starts; Debian's postgresql, else skipped with a line):
  --multi-proxies N       mesh-proxy processes (default 3)
  --multi-instances N     synthetic instances, registering spread over them (default 10000, quick 600)
  --multi-services N      service names they spread over as replicas (default 2500, quick 150)
  --multi-tools N         tools per instance (default 3)
  --multi-concurrency N   registrations/heartbeats in flight over all proxies (default 48)
  --multi-register-rate N registrations per second over all proxies (default: unpaced)
  --multi-remove-after S  the proxies' --heartbeat-timeout (default 600: the first registrations of a slow
                          burst outlive it; a 404 on a heartbeat is answered by registering again)
  --multi-probe-every MS  while the heartbeats run, a new instance registers this often (default 250):
                          its time to be visible on every proxy is the steady-state figure
  --multi-compression N   heartbeat rate as a multiple of the real N per 30 s (default 1, quick 3)
  --multi-rounds N        rounds of all N heartbeats (30 s of mesh time each; default 2, quick 1)
  --multi-call-rounds N   pairs of alternating routed-call windows, PostgreSQL and sql.js (default 8, quick 2)
  --multi-sqljs           each proxy on a sql.js file of its own (nothing shared): tries the machinery only
  --help`;

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer, got ${JSON.stringify(value ?? '')}\n${USAGE}`);
  return n;
}

/** Parses argv (without node and the script); throws with the usage text on anything unknown. */
export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  let quick = false;
  let paths: string[] = [];
  let rounds: number | undefined;
  let concurrency = 32;
  let sdk = true;
  let sdkEveryRound = false;
  let cpuProf = false;
  let cpuProfIntervalUs = 1000;
  let suite: Suite | undefined;
  const registry: RegistryScaleOptions = { ...DEFAULT_REGISTRY_OPTIONS };
  let registryRounds: number | undefined;
  let meshSamples: number | undefined;
  let meshRounds: number | undefined;
  const faults: FaultsOptions = { ...DEFAULT_FAULTS_OPTIONS };
  let faultsSessions: number | undefined;
  const dashboard: DashboardOptions = { ...DEFAULT_DASHBOARD_OPTIONS };
  let dashboardLoads: number | undefined;
  const multi: Partial<MultiProxyOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--paths':
        paths = (value() ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        if (paths.length === 0) throw new Error(`--paths expects a comma-separated list\n${USAGE}`);
        break;
      case '--rounds':
        rounds = positiveInt('--rounds', value());
        break;
      case '--concurrency':
        concurrency = positiveInt('--concurrency', value());
        break;
      case '--no-sdk':
        sdk = false;
        break;
      case '--sdk-every-round':
        sdkEveryRound = true;
        break;
      case '--cpu-prof':
        cpuProf = true;
        break;
      case '--cpu-prof-interval':
        cpuProfIntervalUs = positiveInt('--cpu-prof-interval', value());
        break;
      case '--suite': {
        const v = value();
        const known = SUITES.find((x) => x === v);
        if (known === undefined) throw new Error(`--suite expects ${SUITES.join(', ')}; got ${JSON.stringify(v ?? '')}\n${USAGE}`);
        suite = known;
        break;
      }
      case '--registry-instances':
        registry.instances = positiveInt(flag, value());
        break;
      case '--registry-services':
        registry.services = positiveInt(flag, value());
        break;
      case '--registry-tools':
        registry.toolsPerInstance = positiveInt(flag, value());
        break;
      case '--registry-concurrency':
        registry.concurrency = positiveInt(flag, value());
        break;
      case '--registry-compression':
        registry.compression = positiveInt(flag, value());
        break;
      case '--registry-rounds':
        registryRounds = positiveInt(flag, value());
        break;
      case '--mesh-samples':
        meshSamples = positiveInt(flag, value());
        break;
      case '--mesh-rounds':
        meshRounds = positiveInt(flag, value());
        break;
      case '--faults-sessions':
        faultsSessions = positiveInt(flag, value());
        break;
      case '--faults-idle':
        faults.idleSeconds = positiveInt(flag, value());
        break;
      case '--faults-settle':
        faults.settleSeconds = positiveInt(flag, value());
        break;
      case '--faults-calls':
        faults.drainCalls = positiveInt(flag, value());
        break;
      case '--faults-call-ms':
        faults.callMs = positiveInt(flag, value());
        break;
      case '--faults-build':
        faults.build = value() ?? '';
        break;
      case '--faults-legacy':
        faults.legacy = true;
        break;
      case '--dashboard-services':
        dashboard.services = positiveInt(flag, value());
        break;
      case '--dashboard-loads':
        dashboardLoads = positiveInt(flag, value());
        break;
      case '--multi-proxies':
        multi.proxies = positiveInt(flag, value());
        break;
      case '--multi-instances':
        multi.instances = positiveInt(flag, value());
        break;
      case '--multi-services':
        multi.services = positiveInt(flag, value());
        break;
      case '--multi-tools':
        multi.toolsPerInstance = positiveInt(flag, value());
        break;
      case '--multi-concurrency':
        multi.concurrency = positiveInt(flag, value());
        break;
      case '--multi-register-rate':
        multi.registerPerSec = positiveInt(flag, value());
        break;
      case '--multi-remove-after':
        multi.removeAfterS = positiveInt(flag, value());
        break;
      case '--multi-probe-every':
        multi.probeEveryMs = positiveInt(flag, value());
        break;
      case '--multi-compression':
        multi.compression = positiveInt(flag, value());
        break;
      case '--multi-rounds':
        multi.rounds = positiveInt(flag, value());
        break;
      case '--multi-call-rounds':
        multi.callRounds = positiveInt(flag, value());
        break;
      case '--multi-sqljs':
        multi.store = 'sqljs';
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (cpuProf && paths.length === 0) paths = ['sidecar'];
  suite ??= paths.length > 0 || cpuProf ? 'echo' : 'all';
  registry.rounds = registryRounds ?? (quick ? 1 : DEFAULT_REGISTRY_OPTIONS.rounds);
  if (quick) {
    registry.idleSamples = 10;
    registry.loadSamples = 20;
  }
  const meshDefaults = quick ? QUICK_MESH_OPTIONS : DEFAULT_MESH_OPTIONS;
  const mesh: MeshSuiteOptions = { ...meshDefaults, samples: meshSamples ?? meshDefaults.samples, rounds: meshRounds ?? meshDefaults.rounds };
  faults.sessions = faultsSessions ?? (quick ? 500 : DEFAULT_FAULTS_OPTIONS.sessions);
  dashboard.loads = dashboardLoads ?? (quick ? 3 : DEFAULT_DASHBOARD_OPTIONS.loads);
  const multiProxy: MultiProxyOptions = { ...(quick ? QUICK_MULTI_OPTIONS : DEFAULT_MULTI_OPTIONS), ...multi };
  const common = { quick, suite, registry, mesh, faults, dashboard, multiProxy, paths, concurrency, sdk, sdkEveryRound, cpuProf, cpuProfIntervalUs };
  if (quick) {
    return {
      ...common,
      rounds: rounds ?? 1,
      warmupCalls: 20,
      sequentialCalls: 200,
      sequentialMaxMs: 1_000,
      throughputMs: 1_000,
      throughputMaxCalls: 2_000,
      throughputWarmupMs: 500,
      sdkWarmupCalls: 10,
      sdkSequentialCalls: 100,
      sdkSequentialMaxMs: 1_000,
      sdkThroughputMs: 1_000,
      sdkThroughputMaxCalls: 1_000,
    };
  }
  // Sized so that the default run (5 paths x 3 rounds, then the registry suite) stays near 3 minutes.
  return {
    ...common,
    rounds: rounds ?? (cpuProf ? 1 : 3),
    warmupCalls: 20,
    sequentialCalls: 2_000,
    sequentialMaxMs: 2_000,
    throughputMs: 3_000,
    throughputMaxCalls: 20_000,
    throughputWarmupMs: 1_000,
    sdkWarmupCalls: 20,
    sdkSequentialCalls: 1_000,
    sdkSequentialMaxMs: 1_000,
    sdkThroughputMs: 1_500,
    sdkThroughputMaxCalls: 10_000,
  };
}
