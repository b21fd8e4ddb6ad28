import { decodeJwt } from 'jose';
import { type Caller, InvalidTokenError, type IssuerTokenVerifier, type TokenVerifier } from './caller.js';
import type { TokenCache } from './token-cache.js';

/** Longer than any token we issue or accept; refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

const BEARER = /^Bearer +([A-Za-z0-9_.~+/-]+=*) *$/i;

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1), or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = BEARER.exec(header);
  return match ? match[1]! : null;
}

export interface Authenticator {
  /** Synchronous on a cache hit (the common case), so the hot path takes no extra async hop. */
  authenticate(token: string): Caller | Promise<Caller>;
}

/**
 * Picks the verifier by the token's (unverified) `iss` — the hub's own, or a federated
 * issuer's — and caches what it verified until the token's `exp`. One authenticator per
 * snapshot; the cache is handed on to the next one when the hub keys, applications and
 * trusted issuers did not change (route-table.ts).
 */
export function createAuthenticator(input: {
  hubIssuer: string;
  hub: TokenVerifier;
  federated: IssuerTokenVerifier | null;
  cache: TokenCache<Caller>;
  nowSeconds?: () => number;
}): Authenticator {
  const now = input.nowSeconds ?? (() => Date.now() / 1000);
  const { cache, hub, federated, hubIssuer } = input;

  async function verify(token: string): Promise<Caller> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('malformed', 'token is too long');
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('malformed', 'token is malformed');
    }
    let verifier: TokenVerifier | null = null;
    if (issuer === hubIssuer) verifier = hub;
    else if (typeof issuer === 'string' && federated?.issuers.has(issuer)) verifier = federated;
    if (!verifier) throw new InvalidTokenError('issuer', 'token is from an issuer this hub does not trust');
    const caller = await verifier.verify(token);
    cache.set(token, caller);
    return caller;
  }

  return {
    authenticate(token) {
      return cache.get(token, now()) ?? verify(token);
    },
  };
}
