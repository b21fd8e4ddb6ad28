import { type BackendIdentityKey, signBackendIdentity } from '@spl/token';
import type { Caller } from '../auth/caller.js';
import type { CompiledRoute } from '../routing/route-table.js';

/** Lifetime of an identity JWT to an upstream, seconds. */
export const IDENTITY_LIFETIME_SECONDS = 60;
/** A cached token is replaced this long before its `exp`, milliseconds. */
const REFRESH_BEFORE_MS = 10_000;
/** The cache is cleared when it grows past this many entries. */
const MAX_ENTRIES = 50_000;

/**
 * The identity the gateway asserts to an upstream in place of the consumer's token (issue
 * 3 §5): a short-lived EdDSA JWT signed with the key derived from SPL_MASTER_KEY and
 * published in the registry's JWKS, naming the calling application and its organisation,
 * with the upstream (`org/api/version`) as audience. Signing costs ≈ 200 µs, so a token is
 * cached per (application, client, route) until 10 s before it expires.
 */
export interface BackendIdentity {
  /** The X-SPL-Identity value for this caller and route. */
  token(applicationId: string, caller: Caller, route: CompiledRoute): string | Promise<string>;
}

export function createBackendIdentity(deps: {
  key: BackendIdentityKey;
  issuer: string;
  lifetimeSeconds?: number;
  now?: () => number;
}): BackendIdentity {
  const lifetimeSeconds = deps.lifetimeSeconds ?? IDENTITY_LIFETIME_SECONDS;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { token: string; refreshAt: number }>();

  return {
    token(applicationId, caller, route) {
      // The client is part of the key: an application may hold several clients (rotation).
      const cacheKey = `${applicationId}\u0000${route.id}\u0000${caller.clientId}`;
      const at = now();
      const hit = cache.get(cacheKey);
      if (hit && at < hit.refreshAt) return hit.token;
      return signBackendIdentity(deps.key, {
        issuer: deps.issuer,
        audience: route.key,
        application: { id: applicationId, org: caller.org, clientId: caller.clientId },
        lifetimeSeconds,
        now: at,
      }).then(({ token, claims }) => {
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(cacheKey, { token, refreshAt: claims.exp * 1000 - REFRESH_BEFORE_MS });
        return token;
      });
    },
  };
}
