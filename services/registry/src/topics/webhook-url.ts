import { isIP } from 'node:net';
import { createEgressPolicy, type EgressPolicy } from '@spl/egress';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function refuse(message: string): never {
  throw errors.SPL_WEBHOOK_URL_REFUSED(`the push URL ${message}`, {
    extensions: { errors: [{ pointer: 'body:/pushUrl', message }] },
  });
}

const policies = new Map<string, EgressPolicy>();

/**
 * Whether SPL_EGRESS_ALLOW, read by the data planes' own policy (@spl/egress: names,
 * `*.suffix`, IPs and CIDRs; `*` = any public address; loopback, private and link-local
 * ranges only when listed), lets a data plane reach `host`. The registry judges the URL's
 * host as written — it resolves nothing; the broker checks the address it dials when
 * connecting. `localhost` counts as the loopback address it names.
 */
export function isEgressListed(allow: string, host: string): boolean {
  let policy = policies.get(allow);
  if (!policy) {
    policy = createEgressPolicy(allow);
    policies.set(allow, policy);
  }
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const addresses = bare === 'localhost' ? ['127.0.0.1', '::1'] : isIP(bare) ? [bare] : [];
  if (addresses.length > 0) return addresses.some((address) => policy.check(bare, address) === null);
  return policy.isNameListed(bare);
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
