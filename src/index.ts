// The MM library: what apps, sidecars and native instances import. Nothing here listens or spawns at import time.
export * from './errors.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export { ChildProcessTransport, describeExit, type ChildCommand, type ChildExit, type ChildProcessTransportOptions } from './stdio/child-transport.js';
export { Bridge, type BridgeOptions, type BridgeStats } from './bridge/bridge.js';
export { BridgeSession } from './bridge/bridge-session.js';
export { createInstanceServer, type InstanceServer, type InstanceServerOptions } from './http/instance-server.js';
export { createHostGuard, LOOPBACK_HOSTS, type HostGuard, type HostGuardOptions } from './http/host-guard.js';
export { listenOnFreePort, parsePortRange, FETCH_BLOCKED_PORTS, type PortRange } from './http/ports.js';
export { RegistrationClient, type RegistrationBody, type RegistrationOptions } from './instance/registration.js';
export * from './manifest/index.js';
export * as client from './client/index.js';
export * as contract from './contract/index.js';
export { createInstance, NativeInstance, type NativeHealth, type NativeState } from './instance/create-instance.js';
export { resolveInstanceOptions, type InstanceOptions, type ResolvedInstanceOptions } from './instance/instance-options.js';
export type { ArgsOf, ToolHandler, ToolInput, ToolSpec } from './instance/native-tools.js';
export type { ToolContext } from './instance/tool-context.js';
export { errorResult, isCallToolResult, toToolResult } from './instance/tool-result.js';
