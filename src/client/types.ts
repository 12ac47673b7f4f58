import type { InstanceStatus } from '../contract/states.js';

// The shapes MeshClient returns are the wire contract's (src/contract/): the proxy answers with
// them and the client parses its answers with the same schemas.

/** A service's or instance's health as the proxy reports it. */
export type ServiceStatus = InstanceStatus;

export type {
  /** An instance's circuit breaker: `open` = ejected after failing calls, `half-open` = its next call is a probe. */
  Circuit as CircuitInfo,
  /** One registered process serving a service (a replica), as `GET /v1/services` lists it. */
  ListedInstance as InstanceInfo,
  /** A service with its tools and their input schemas (`GET /v1/services/:name`). */
  ServiceDetail,
  /** A service: every replica sharing one name. */
  ServiceInfo,
} from '../contract/services.js';
/** An MCP tool as the proxy lists it (extra fields of newer MCP revisions pass through). */
export type { Tool } from '../contract/tool.js';

/** Filters for `services()`. */
export interface ServiceFilter {
  status?: ServiceStatus;
  tag?: string;
}

export type { CallToolResult } from '@modelcontextprotocol/client';
