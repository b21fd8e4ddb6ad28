/**
 * Why a federated token was refused. The gateway answers every one of them with 401 and
 * `WWW-Authenticate: Bearer error="invalid_token"` (ARCHITECTURE "Errors"); the reason goes to
 * the auth-rejection metric and the access log, never to the caller.
 */
export type FederationFailure =
  /** `iss` names no trusted issuer of the snapshot. */
  | 'unknown-issuer'
  /** Not a compact JWS, or its header or payload is not JSON. */
  | 'malformed'
  /** `alg` is not in the issuer's allow-list (always the case for `none` and HS*). */
  | 'algorithm'
  /** The JWKS URL is not https (nor loopback), or SPL_EGRESS_ALLOW does not permit it. */
  | 'egress-refused'
  /** The JWKS could not be fetched or was not a key set, and no earlier copy is held. */
  | 'jwks-unavailable'
  /** No key with the token's `kid`, even after a refetch (or within the refetch cool-down). */
  | 'unknown-key'
  | 'signature'
  | 'expired'
  /** `nbf` (or `iat`) in the future beyond the clock tolerance. */
  | 'not-yet-valid'
  | 'audience'
  | 'issuer'
  /** A claim is missing or has the wrong type: `exp`, or the issuer's client claim. */
  | 'claims'
  /** No application is bound to this (issuer, client claim value). */
  | 'unknown-client';

export class FederationError extends Error {
  override name = 'FederationError';
  constructor(
    readonly reason: FederationFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
