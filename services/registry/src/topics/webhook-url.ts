import { BlockList, isIP } from 'node:net';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function refuse(message: string): never {
  throw errors.SPL_WEBHOOK_URL_REFUSED(`the push URL ${message}`, {
    extensions: { errors: [{ pointer: 'body:/pushUrl', message }] },
  });
}

/** Whether SPL_EGRESS_ALLOW (comma- or space-separated names, IPs, CIDRs, `*`) lists the host. */
export function isEgressListed(allow: string, host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const entries = allow
    .split(/[\s,]+/)
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const ipKind = isIP(bare);
  for (const entry of entries) {
    if (entry === '*' || entry === bare) return true;
    if (ipKind && entry.includes('/')) {
      const [address, bits] = entry.split('/') as [string, string];
      const kind = isIP(address);
      if (kind !== ipKind) continue;
      const list = new BlockList();
      list.addSubnet(address, Number(bits), kind === 6 ? 'ipv6' : 'ipv4');
      if (list.check(bare, kind === 6 ? 'ipv6' : 'ipv4')) return true;
    }
  }
  return false;
}

/**
 * A webhook endpoint the broker may be told to POST to: https without credentials in the
 * URL (BKS 60(3)(a)); plain http only to a loopback host in development; and, when the
 * registry knows SPL_EGRESS_ALLOW, a host it lists. Returns the normalised URL.
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
  if (config.SPL_EGRESS_ALLOW !== undefined && !isEgressListed(config.SPL_EGRESS_ALLOW, url.hostname))
    refuse(`host ${url.hostname} is not allowed by SPL_EGRESS_ALLOW`);
  return url.toString();
}
