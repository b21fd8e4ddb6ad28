import type { Snapshot } from '@spl/snapshot';
import { createAccessTokenVerifier, TokenError } from '@spl/token';
import { type Caller, InvalidTokenError, type TokenVerifier } from './caller.js';

/** Algorithms the hub signs with; `none`, HS* and RS* are refused whatever the token says. */
export const HUB_ALGORITHMS = ['ES256', 'EdDSA'];

/**
 * The hub's own access tokens (RFC 9068): signature against the snapshot's `hubKeys`, `typ`
 * at+jwt, issuer SPL_PUBLIC_URL, audience, expiry; the application is the snapshot
 * application whose `clientIds` holds the token's `client_id`. Built once per snapshot.
 * An unknown `kid` may mean the registry rotated its keys and this snapshot is stale:
 * `onUnknownKey` (snapshot-runtime.ts) refreshes it and verifies the token once more.
 */
export function createHubTokenVerifier(input: {
  snapshot: Snapshot;
  issuer: string;
  audience: string;
  /**
   * Called for a token signed with a `kid` the snapshot's hub keys lack: a promise of the
   * caller after the keys were refreshed, or null for no second chance (issue 3 §3).
   */
  onUnknownKey?: ((token: string) => Promise<Caller> | null) | undefined;
}): TokenVerifier {
  const verifier = createAccessTokenVerifier({
    jwks: input.snapshot.hubKeys as never,
    issuer: input.issuer,
    audience: input.audience,
    algorithms: HUB_ALGORITHMS,
  });
  const applications = new Map<string, { id: string; org: string }>();
  for (const app of input.snapshot.applications)
    for (const clientId of app.clientIds) applications.set(clientId, { id: app.id, org: app.org });

  return {
    async verify(token) {
      try {
        const claims = await verifier.verify(token);
        const app = applications.get(claims.client_id);
        const caller: Caller = {
          applicationId: app?.id ?? null,
          org: app?.org ?? claims.spl_org,
          clientId: claims.client_id,
          issuer: claims.iss,
          expiresAt: claims.exp,
        };
        return caller;
      } catch (err) {
        if (err instanceof TokenError) {
          const again = err.reason === 'unknown-key' ? input.onUnknownKey?.(token) : null;
          if (again) return again;
          throw new InvalidTokenError(err.reason, err.message);
        }
        throw new InvalidTokenError('malformed', 'token is malformed');
      }
    },
  };
}
