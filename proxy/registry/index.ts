// The registry's public surface, for the proxy's HTTP API, MCP endpoint, router and CLI.
export { Registry, type RegisterResult, type RegistryStats, type ServiceFilter, type SweepResult } from './registry.js';
export { registryDefaults, type RegistryOptions } from './options.js';
export type { InstanceSummary, InstanceView, ServiceSummary } from './views.js';
export type { JoinedEvent, LeftEvent, LeftReason, RegistryEvent, RegistryEvents, StatusEvent, ToolsEvent } from './events.js';
export type { AuditEntry, AuditRecord } from './audit-log.js';
export type { Recovery } from './open-database.js';
export type { DroppedRow } from './instance-store.js';
export { RegistrationSchema, registrationSchema } from './schemas.js';
export * from '../../src/contract/index.js';
export { isLoopbackHost } from './loopback.js';
