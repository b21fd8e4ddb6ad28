import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * SPL_EGRESS_ALLOW (ARCHITECTURE "Outbound calls"): which hosts a data plane (gateway upstreams, broker webhooks) may connect to,
 * checked when connecting, on the address actually dialled, so a name that later resolves
 * to an internal address (DNS rebinding) is still refused.
 *
 * An address is allowed when it lies in a listed IP or CIDR; otherwise it must be a public
 * address (not loopback, private, link-local, CGNAT, unspecified or multicast) of a host
 * whose name is listed, or `*` is listed.
 */
export interface EgressPolicy {
  /** null when allowed, else why not. */
  check(host: string, address: string): string | null;
  /** Whether a host name is listed (`*`, the name, or a `*.suffix`), before any address is known. */
  isNameListed(host: string): boolean;
  /** A `lookup` for net/tls connect that refuses addresses the policy does not allow. */
  lookup: LookupFunction;
}

export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
  readonly code = 'SPL_EGRESS_REFUSED';
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function addCidr(list: BlockList, entry: string): boolean {
  const [address, bits] = entry.split('/') as [string, string | undefined];
  const kind = isIP(address);
  if (!kind) return false;
  if (bits === undefined) list.addAddress(address, family(address));
  else {
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (kind === 4 ? 32 : 128)) return false;
    list.addSubnet(address, prefix, family(address));
  }
  return true;
}

/** Addresses never reached unless listed: RFC 1918, loopback, link-local, CGNAT, ULA, … */
function createSpecialRanges(): BlockList {
  const list = new BlockList();
  for (const cidr of [
    '0.0.0.0/8',
    '10.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '172.16.0.0/12',
    '192.0.0.0/24',
    '192.168.0.0/16',
    '198.18.0.0/15',
    '224.0.0.0/4',
    '240.0.0.0/4',
    '::/128',
    '::1/128',
    'fc00::/7',
    'fe80::/10',
    'ff00::/8',
  ])
    addCidr(list, cidr);
  return list;
}

export class EgressConfigError extends Error {
  override name = 'EgressConfigError';
}

export function createEgressPolicy(allow: string): EgressPolicy {
  const listed = new BlockList();
  const special = createSpecialRanges();
  const names = new Set<string>();
  const suffixes: string[] = [];
  let isAnyPublicAllowed = false;
  for (const raw of allow.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') isAnyPublicAllowed = true;
    else if (isIP(entry.split('/')[0]!)) {
      if (!addCidr(listed, entry)) throw new EgressConfigError(`SPL_EGRESS_ALLOW: bad CIDR ${entry}`);
    } else if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else if (/^[a-z0-9.-]+$/.test(entry)) names.add(entry);
    else throw new EgressConfigError(`SPL_EGRESS_ALLOW: cannot read entry ${JSON.stringify(entry)}`);
  }

  const isNameListed = (host: string) => {
    const name = host.toLowerCase();
    return isAnyPublicAllowed || names.has(name) || suffixes.some((s) => name.endsWith(s));
  };

  const check = (host: string, dialled: string): string | null => {
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(dialled);
    const address = mapped ? mapped[1]! : dialled;
    const kind = family(address);
    if (listed.check(address, kind)) return null;
    if (special.check(address, kind))
      return `${host} resolves to ${address}, a loopback, private or link-local address not listed in SPL_EGRESS_ALLOW`;
    if (!isNameListed(host)) return `${host} is not listed in SPL_EGRESS_ALLOW`;
    return null;
  };

  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => check(hostname, a.address) === null);
      if (!allowed.length) {
        const first = addresses[0];
        const why = first ? check(hostname, first.address) : `${hostname} has no address`;
        return callback(new EgressRefusedError(why ?? 'refused'), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };

  return { check, isNameListed, lookup };
}
