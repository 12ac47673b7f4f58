import { BlockList, isIP } from 'node:net';
import { MeshError } from '../../src/errors.js';
import { isLoopbackHost } from './loopback.js';

/** The networks non-loopback instances may be in (`--allow-instances`), as written and as a BlockList. */
export interface InstanceNetworks {
  /** The CIDRs as given, for error messages. */
  cidrs: string[];
  list: BlockList;
}

// One CIDR: an address and a prefix length (a bare address is one host: /32 or /128).
function addNetwork(list: BlockList, cidr: string): void {
  const [address = '', prefix, extra] = cidr.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  const bits = prefix === undefined ? max : Number(prefix);
  if (family === 0 || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > max || (prefix !== undefined && !/^\d+$/.test(prefix))) {
    throw new MeshError('BAD_REQUEST', `--allow-instances: "${cidr}" is not a network; expected CIDRs like 10.0.0.0/8,192.168.1.0/24,fd00::/8`);
  }
  list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Parses `--allow-instances` (comma-separated CIDRs; several flags add up); undefined when none is given.
 * @throws MeshError BAD_REQUEST naming the entry that is not a network
 * @example parseInstanceNetworks(['10.0.0.0/8,192.168.1.0/24'])
 */
export function parseInstanceNetworks(values: readonly string[] | undefined): InstanceNetworks | undefined {
  const cidrs = (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) addNetwork(list, cidr);
  return { cidrs, list };
}

// An IPv4-mapped IPv6 address is checked as the IPv4 address it carries.
function inNetworks(networks: InstanceNetworks, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return networks.list.check(mapped, 'ipv4');
  return networks.list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The proxy's policy on an instance's host (its url's host and its `host` field): loopback always;
 * anything else only an IP address inside `--allow-instances` (host names are never resolved: a
 * name could point anywhere later). A problem to report, or undefined when allowed.
 * @example instanceHostProblem('10.0.0.5', parseInstanceNetworks(['10.0.0.0/8'])) // undefined
 */
export function instanceHostProblem(host: string, networks: InstanceNetworks | undefined): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  if (networks === undefined) return `host "${host}" is not loopback and this proxy does not accept remote instances (start it with --allow-instances <cidr,...> naming their networks)`;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 0) return `host "${host}" is not an IP address; --allow-instances (${networks.cidrs.join(',')}) admits IP addresses only: register an IP URL (mesh-sidecar --advertise-url)`;
  if (!inNetworks(networks, bare)) return `host "${host}" is not in the networks this proxy accepts instances from (--allow-instances ${networks.cidrs.join(',')})`;
  return undefined;
}
