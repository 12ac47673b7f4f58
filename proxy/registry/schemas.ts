import { buildRegistrationSchema, type Registration } from '../../src/contract/registration.js';
import { isLoopbackHost } from './loopback.js';

// The registry's boundary: every registration and heartbeat body, and every row read back from
// the registry file, passes through the wire contract's schemas (src/contract/); the proxy adds
// its own policy here: remote instances are refused unless it allows them.

const notLoopback = (host: string) => (isLoopbackHost(host) ? undefined : `host "${host}" is not loopback and this proxy does not accept remote instances`);

const localRegistration = buildRegistrationSchema(notLoopback);
const anyRegistration = buildRegistrationSchema();

/** A registration from a loopback-only proxy (the default). */
export const RegistrationSchema = localRegistration;

/**
 * The registration schema for a proxy's policy.
 * @example registrationSchema({ allowRemote: true }).parse(body)
 */
export function registrationSchema(options: { allowRemote?: boolean } = {}): typeof RegistrationSchema {
  return options.allowRemote ? anyRegistration : localRegistration;
}

export type { Registration };
export type { RegistrationInput } from '../../src/contract/registration.js';
export { ChildStateSchema, InstanceKindSchema, InstanceStatusSchema, type ChildState, type InstanceKind, type InstanceStatus } from '../../src/contract/states.js';
export { InstanceIdSchema, ServiceNameSchema, TagSchema, type InstanceId, type ServiceName } from '../../src/contract/names.js';
export { ObjectJsonSchemaSchema, ToolAnnotationsSchema, ToolSchema, type ObjectJsonSchema, type Tool } from '../../src/contract/tool.js';
export { PromptsSummarySchema, ResourcesSummarySchema, type PromptsSummary, type ResourcesSummary } from '../../src/contract/offerings.js';
export { HeartbeatSchema, type Heartbeat, type HeartbeatInput } from '../../src/contract/heartbeat.js';
export { AuditOutcomeSchema, type AuditOutcome } from '../../src/contract/audit.js';
export { ClaimSchema, LEASE_HEADER, LeaseSchema, type Lease } from '../../src/contract/lease.js';
export { RegisteredAnswerSchema, type RegisteredAnswer } from '../../src/contract/registration.js';
