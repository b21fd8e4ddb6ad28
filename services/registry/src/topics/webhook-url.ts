import { BlockList, isIP } from 'node:net';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function refuse(message: string): never {
  throw errors.SPL_WEBHOOK_URL_REFUSED(`the push URL ${message}`, {
    extensions: { errors: [{ pointer: 'body:/pushUrl', message }] },
  });
}

/** Addresses reached only when listed (as the gateway's egress policy): loopback, private, link-local… */
const SPECIAL_RANGES = (() => {
  const list = new BlockList();
  for (const [address, bits, kind] of [
    ['0.0.0.0', 8, 'ipv4'],
    ['10.0.0.0', 8, 'ipv4'],
    ['100.64.0.0', 10, 'ipv4'],
    ['127.0.0.0', 8, 'ipv4'],
    ['169.254.0.0', 16, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['224.0.0.0', 4, 'ipv4'],
    ['240.0.0.0', 4, 'ipv4'],
    ['::', 128, 'ipv6'],
    ['::1', 128, 'ipv6'],
    ['fc00::', 7, 'ipv6'],
    ['fe80::', 10, 'ipv6'],
  ] as const)
    list.addSubnet(address, bits, kind);
  return list;
})();

/**
 * Whether SPL_EGRESS_ALLOW, read as the gateway reads it (comma list of names, `*.suffix`,
 * IPs and CIDRs; `*` = any public address), lets a data plane reach `host`. The registry
 * judges the URL's host as written — it resolves nothing; the broker checks the address it
 * dials when connecting. `localhost` counts as the loopback address it names.
 */
export function isEgressListed(allow: string, host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const entries = allow
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const addresses = bare === 'localhost' ? ['127.0.0.1', '::1'] : isIP(bare) ? [bare] : [];
  for (const address of addresses) {
    const kind = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    for (const entry of entries) {
      const [base, bits] = entry.split('/') as [string, string | undefined];
      if (isIP(base) !== isIP(address)) continue;
      const list = new BlockList();
      if (bits === undefined) list.addAddress(base, kind);
      else list.addSubnet(base, Number(bits), kind);
      if (list.check(address, kind)) return true;
    }
    if (SPECIAL_RANGES.check(address, kind)) return false;
  }
  return entries.some((e) => e === '*' || e === bare || (e.startsWith('*.') && bare.endsWith(e.slice(1))));
}

/**
 * A webhook endpoint the broker may be told to POST to: https without credentials in the
 * URL (BKS 60(3)(a)); plain http only to a loopback host in development; when the
 * registry knows SPL_EGRESS_ALLOW, a host it lists; when it does not, no special address
 * (as under `*`). Returns the normalised URL.
 */
export function checkWebhookUrl(
  value: string,
  config: Pick<RegistryConfig, 'SPL_MODE' | 'SPL_EGRESS_ALLOW'>,
): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    refuse('is not a URL');
  }
  if (url.username || url.password) refuse('must not carry credentials');
  if (url.hash) refuse('must not have a fragment');
  const isDevLoopback = config.SPL_MODE === 'development' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isDevLoopback))
    refuse(
      config.SPL_MODE === 'development'
        ? 'must be https (http only to a loopback host in development)'
        : 'must be https in production',
    );
  if (config.SPL_EGRESS_ALLOW !== undefined) {
    if (!isEgressListed(config.SPL_EGRESS_ALLOW, url.hostname))
      refuse(`host ${url.hostname} is not allowed by SPL_EGRESS_ALLOW`);
  } else if (!isDevLoopback && !isEgressListed('*', url.hostname)) {
    // Without SPL_EGRESS_ALLOW the registry still refuses what no data plane may reach
    // unlisted: a loopback, private, link-local (cloud metadata, 169.254.169.254) or
    // reserved address written as the host (OWASP API7:2023; test/owasp/api7-ssrf.test.ts).
    refuse(`host ${url.hostname} is a loopback, private, link-local or reserved address`);
  }
  return url.toString();
}
