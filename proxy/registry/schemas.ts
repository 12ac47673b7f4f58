import { buildRegistrationSchema } from '../../src/contract/registration.js';
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
