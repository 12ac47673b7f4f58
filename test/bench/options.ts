/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  quick: boolean;
  /** Path names to run, in report order; empty means all. */
  paths: string[];
  rounds: number;
  concurrency: number;
  warmupCalls: number;
  sequentialCalls: number;
  throughputMs: number;
  throughputMaxCalls: number;
  /** Unmeasured burst at full concurrency before the throughput window. */
  throughputWarmupMs: number;
  sdk: boolean;
  sdkWarmupCalls: number;
  sdkSequentialCalls: number;
  sdkThroughputMs: number;
  sdkThroughputMaxCalls: number;
  /** Run HTTP bridges under `node --cpu-prof` and summarize where they spend CPU under load. */
  cpuProf: boolean;
  /** Sampling interval of --cpu-prof in µs (node's default is 1000; smaller perturbs the bridge more). */
  cpuProfIntervalUs: number;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick              smoke run: 1 round, few calls
  --paths a,b          only these paths (default: all; see the list printed at start)
  --rounds N           interleaved rounds per path (default 3, quick 1); medians are reported
  --concurrency N      calls in flight for the throughput figure (default 32)
  --no-sdk             skip the MCP SDK client's end-to-end figures
  --cpu-prof           profile the HTTP bridges (node --cpu-prof) and print their top self-time
                       functions during the throughput window (default paths: sidecar; 1 round)
  --cpu-prof-interval N  sampling interval in µs (default 1000)
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
  let cpuProf = false;
  let cpuProfIntervalUs = 1000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--paths':
        paths = (value() ?? '').split(',').map((p) => p.trim()).filter(Boolean);
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
      case '--cpu-prof':
        cpuProf = true;
        break;
      case '--cpu-prof-interval':
        cpuProfIntervalUs = positiveInt('--cpu-prof-interval', value());
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (cpuProf && paths.length === 0) paths = ['sidecar'];
  const common = { quick, paths, concurrency, sdk, cpuProf, cpuProfIntervalUs };
  if (quick) {
    return {
      ...common,
      rounds: rounds ?? 1,
      warmupCalls: 20,
      sequentialCalls: 200,
      throughputMs: 1_000,
      throughputMaxCalls: 2_000,
      throughputWarmupMs: 500,
      sdkWarmupCalls: 10,
      sdkSequentialCalls: 100,
      sdkThroughputMs: 1_000,
      sdkThroughputMaxCalls: 1_000,
    };
  }
  return {
    ...common,
    rounds: rounds ?? (cpuProf ? 1 : 3),
    warmupCalls: 200,
    sequentialCalls: 2_000,
    throughputMs: 5_000,
    throughputMaxCalls: 20_000,
    throughputWarmupMs: 2_000,
    sdkWarmupCalls: 100,
    sdkSequentialCalls: 1_000,
    sdkThroughputMs: 3_000,
    sdkThroughputMaxCalls: 10_000,
  };
}
