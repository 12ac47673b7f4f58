import { buildRegistrationSchema } from '../../src/contract/registration.js';
import { instanceHostProblem, type InstanceNetworks } from './instance-networks.js';

// The registry's boundary: every registration and heartbeat body, and every row read back from
// the registry file, passes through the wire contract's schemas (src/contract/); the proxy adds
// its own policy here: remote instances only from the networks of --allow-instances.

const localRegistration = buildRegistrationSchema((host) => instanceHostProblem(host, undefined));

/** A registration from a loopback-only proxy (the default). */
export const RegistrationSchema = localRegistration;

/**
 * The registration schema for a proxy's policy: loopback instances, plus those whose hosts are IP
 * addresses inside `allowInstances`.
 * @example registrationSchema({ allowInstances: parseInstanceNetworks(['10.0.0.0/8']) }).parse(body)
 */
export function registrationSchema(options: { allowInstances?: InstanceNetworks | undefined } = {}): typeof RegistrationSchema {
  const networks = options.allowInstances;
  return networks === undefined ? localRegistration : buildRegistrationSchema((host) => instanceHostProblem(host, networks));
}
