/**
 * Who is calling: the application a verified token names. Produced by a TokenVerifier —
 * the hub's own (hub-token-verifier.ts) or a federated issuer's (@spl/token federation/).
 */
export interface Caller {
  /** The snapshot application; null when the token is valid but names no registered application (403 later). */
  readonly applicationId: string | null;
  /** Slug of the application's organisation (the token's `spl_org` when no application matched). */
  readonly org: string;
  /** The client as the issuer names it (`client_id`, or a federated issuer's client claim). */
  readonly clientId: string;
  /** The token's `iss`. */
  readonly issuer: string;
  /** The token's `exp`, seconds since the epoch: the verified token is cached until then. */
  readonly expiresAt: number;
}

/** Why a token was refused; every reason answers 401 (the reason goes to logs and metrics). */
export type InvalidTokenReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'signature'
  | 'claims'
  | 'unknown-key'
  | 'algorithm'
  | 'issuer';

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies one issuer's tokens. Throws InvalidTokenError for a token it refuses. It may be
 * slow (a signature check, a JWKS fetch): the gateway caches what it returns until
 * `expiresAt`, per snapshot, so it is called once per distinct token.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
}

/**
 * The seam for federated issuers (issue 3 §3; @spl/token federation/). Built once per snapshot
 * from its `trustedIssuers` and `applications`; the gateway hands it the tokens whose
 * (unverified) `iss` is in `issuers`, and it must verify them fully itself.
 */
export interface IssuerTokenVerifier extends TokenVerifier {
  readonly issuers: ReadonlySet<string>;
}
