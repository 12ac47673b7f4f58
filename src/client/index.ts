// The client entry (`mm-mesh/client`): only what an app needs to call the mesh; no execa, sql.js
// or hono behind it (test/unit/client-imports.test.ts checks the import graph).
export { MeshClient, type CallOptions, type MeshClientOptions } from './mesh-client.js';
export { CallTimeout, LoopDetected, MeshClientError, ProxyUnreachable, ServiceNotFound, ServiceUnavailable, ToolError, ToolNotFound, type ClientErrorContext } from './errors.js';
export { errorFromResponse } from './error-from-response.js';
export { text } from './text.js';
export { DEFAULT_PROXY_URL, proxyUrlFrom } from './proxy-url.js';
export type { WaitForOptions } from './wait-for.js';
export type { CallToolResult, CircuitInfo, InstanceInfo, ServiceDetail, ServiceFilter, ServiceInfo, ServiceStatus, Tool } from './types.js';
export { MeshError, type MeshErrorCode } from '../errors.js';
