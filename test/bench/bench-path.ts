import type { Driver, ToolCall } from './driver.js';

/** One process of a route, e.g. { role: 'proxy', pid }. */
export interface RouteProcess {
  readonly role: string;
  readonly pid: number;
}

/** A running path, ready for traffic. Either `url` (Streamable HTTP, driven by the HTTP drivers) or `openDriver`. */
export interface StartedPath {
  /** The process whose RSS is reported: the bridge, or the server itself on the direct path. */
  readonly rssPid: number;
  /**
   * Every process of the route the bench spawned, each measured on its own (CPU per call, RSS) and
   * with its descendants in the "+server" figures. Default: the bridge alone (`rssPid`). A route
   * through the proxy lists the proxy (first: it is "the bridge" of the report) and the sidecar.
   */
  readonly processes?: readonly RouteProcess[];
  /** performance.now() just before the first process of the path was spawned. */
  readonly spawnedAt: number;
  /** MCP Streamable HTTP endpoint of the path, when it has one. */
  readonly url?: string;
  /** For paths without an HTTP endpoint: a lean driver with an initialized session. */
  /** `connections`: the run's concurrency (calls in flight), for a driver that keeps a socket per call. */
  openDriver?(toolCall: ToolCall, connections: number): Promise<Driver>;
  /** Tears every process of the path down (idempotent). */
  stop(): Promise<void>;
}

export interface PathContext {
  /** Extra node flags for the bridge process (e.g. --cpu-prof ...); empty normally. */
  readonly bridgeNodeFlags: string[];
}

/** One way of reaching the echo tool. Adding a path is one such object in paths.ts. */
export interface BenchPath {
  readonly name: string;
  readonly description: string;
  /** The tools/call this path repeats (default: echo of server-everything). */
  readonly toolCall?: ToolCall;
  /** Skip the MCP SDK client's figures on this path (they cost run time and add the same client cost everywhere). */
  readonly noSdk?: boolean;
  /** Targets relative to supergateway in the same run, checked in the report. */
  readonly targets?: { minThroughputVsSupergateway?: number; maxP50VsSupergateway?: number };
  /** Spawns the path's processes and resolves once it is ready for traffic. */
  start(context: PathContext): Promise<StartedPath>;
}
