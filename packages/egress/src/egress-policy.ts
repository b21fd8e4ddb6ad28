import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

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
    '::/104', // `::`, `::1` and the rest of the IPv4-compatible range that carries 0.0.0.0/8
    '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the network
    '100::/64', // discard-only (RFC 6666)
    '2001::/32', // Teredo: the IPv4 addresses inside are obfuscated
    '2001:db8::/32', // documentation
    'fc00::/7',
    'fe80::/10',
    'fec0::/10', // site-local, deprecated but still routed by some stacks
    'ff00::/8',
  ])
    addCidr(list, cidr);
  return list;
}

/**
 * The IPv4 address an IPv6 address carries, when it is one a network may turn into an IPv4
 * connection: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT),
 * IPv4-compatible (::a.b.c.d), NAT64 well-known prefix (64:ff9b::a.b.c.d, RFC 6052) and
 * 6to4 (2002:aabb:ccdd::/48, RFC 3056). On a network with a NAT64 gateway or a 6to4 relay,
 * `64:ff9b::a9fe:a9fe` reaches 169.254.169.254; so these are judged as the IPv4 address.
 */
export function embeddedIpv4(address: string): string | null {
  if (isIP(address) !== 6) return null;
  const b = ipaddr.IPv6.parse(address).toByteArray();
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number) => b.slice(at, at + 4).join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // ::ffff:0:0/96
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return v4(12); // ::ffff:0:0:0/96
  // ::/96 but not ::/104: `::` and `::1` are IPv6's own unspecified and loopback addresses.
  if (zero(0, 12) && b[12] !== 0) return v4(12); // ::/96
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 2002::/16
  return null;
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
    // An IPv6 address that carries an IPv4 one (::ffff:127.0.0.1, 64:ff9b::7f00:1) is judged
    // as the IPv4 address it leads to.
    const inner = embeddedIpv4(dialled);
    const address = inner ?? dialled;
    const kind = family(address);
    if (listed.check(address, kind)) return null;
    if (special.check(address, kind))
      return `${host} resolves to ${inner ? `${dialled} (${inner})` : address}, a loopback, private or link-local address not listed in SPL_EGRESS_ALLOW`;
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
