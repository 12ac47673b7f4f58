import type { Tool } from '@modelcontextprotocol/client';

/** A service's or instance's health as the proxy reports it. */
export type ServiceStatus = 'starting' | 'healthy' | 'unhealthy' | 'restarting' | 'crashloop';

/** One registered process serving a service (a replica), as `GET /v1/services` lists it. */
export interface InstanceInfo {
  id: string;
  name: string;
  url: string;
  host: string;
  port: number;
  pid?: number;
  kind: 'sidecar' | 'native';
  version: string;
  tags: string[];
  toolsHash: string;
  toolCount: number;
  /** What the child process is doing, as its sidecar last said. */
  state: 'starting' | 'ready' | 'restarting' | 'crashloop';
  status: ServiceStatus;
  /** ms since epoch, by the proxy's clock. */
  lastHeartbeat: number;
  registeredAt: number;
  updatedAt: number;
  /** Instance failures in a row (its circuit breaker's count). */
  failures: number;
  inflight?: number;
  calls?: number;
  /** The proxy's circuit breaker for this instance (absent from older proxies). */
  circuit?: CircuitInfo;
}

/** An instance's circuit breaker: `open` = ejected after failing calls, `half-open` = its next call is a probe. */
export interface CircuitInfo {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  ejections: number;
  /** ms since epoch, by the proxy's clock; set while open or half-open. */
  ejectedUntil?: number;
  /** Failing, yet still routed: ejecting it would leave its service too few replicas. */
  kept: boolean;
  lastFailure?: string;
}

/** A service: every replica sharing one name. */
export interface ServiceInfo {
  name: string;
  /** The best replica's status: healthy if any replica is. */
  status: ServiceStatus;
  instanceCount: number;
  healthyCount: number;
  /** Healthy replicas out of rotation now, ejected by their circuit breakers (absent from older proxies). */
  ejectedCount?: number;
  toolCount: number;
  tags: string[];
  instances: InstanceInfo[];
  /** Routed calls to this service since the proxy started (absent from older proxies). */
  calls?: number;
}

/** A service with its tools and their input schemas (`GET /v1/services/:name`). */
export interface ServiceDetail extends ServiceInfo {
  tools: Tool[];
}

/** Filters for `services()`. */
export interface ServiceFilter {
  status?: ServiceStatus;
  tag?: string;
}

export type { CallToolResult, Tool } from '@modelcontextprotocol/client';
