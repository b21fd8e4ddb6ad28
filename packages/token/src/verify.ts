import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from './access-token.js';

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    readonly reason: 'malformed' | 'expired' | 'signature' | 'claims' | 'unknown-key' | 'algorithm',
    message: string,
  ) {
    super(message);
  }
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<AccessTokenClaims>;
  /** Replace the key set, e.g. after a key rotation. */
  setKeys(jwks: JSONWebKeySet): void;
}

/**
 * Verifies SPL access tokens against a local JWKS: signature, `typ` at+jwt, issuer,
 * audience, expiry (with a small clock tolerance) and the SPL claims being present.
 * Only the listed algorithms are accepted, so `none` and HS/ES confusion fail.
 */
export function createAccessTokenVerifier(options: {
  jwks: JSONWebKeySet;
  issuer: string;
  audience: string;
  algorithms?: string[];
  clockToleranceSeconds?: number;
}): AccessTokenVerifier {
  let keySet = createLocalJWKSet(options.jwks);
  const algorithms = options.algorithms ?? ['ES256', 'EdDSA'];
  return {
    setKeys(jwks) {
      keySet = createLocalJWKSet(jwks);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keySet, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          typ: ACCESS_TOKEN_TYPE,
          clockTolerance: options.clockToleranceSeconds ?? 5,
          requiredClaims: ['sub', 'client_id', 'exp', 'iat', 'jti', 'spl_org', 'spl_roles'],
        });
        if (!Array.isArray(payload.spl_roles)) throw new TokenError('claims', 'spl_roles must be an array');
        return payload as unknown as AccessTokenClaims;
      } catch (err) {
        if (err instanceof TokenError) throw err;
        if (err instanceof errors.JWTExpired) throw new TokenError('expired', 'token expired');
        if (err instanceof errors.JWKSNoMatchingKey)
          throw new TokenError('unknown-key', 'token signed by an unknown key');
        if (err instanceof errors.JOSEAlgNotAllowed)
          throw new TokenError('algorithm', 'token algorithm not allowed');
        if (err instanceof errors.JWSSignatureVerificationFailed)
          throw new TokenError('signature', 'bad signature');
        if (err instanceof errors.JWTClaimValidationFailed)
          throw new TokenError('claims', `claim ${err.claim} is invalid`);
        throw new TokenError('malformed', 'token is malformed');
      }
    },
  };
}
