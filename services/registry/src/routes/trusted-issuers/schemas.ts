import { type Static, Type } from 'typebox';
import { Slug, Timestamp } from '../common-schemas.js';

/**
 * Signature algorithms a federated token may use. Asymmetric only: `none` and the HS*
 * family are absent on purpose — a shared-secret MAC would let anyone holding the JWKS
 * "key" mint tokens (RFC 8725 §3.1, §3.2).
 */
export const FEDERATION_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;

export const FederationAlgorithm = Type.Enum(FEDERATION_ALGORITHMS);

/** https, or http for loopback hosts in development only (checked by the domain code). */
const HttpUrl = Type.String({ format: 'uri', pattern: '^https?://[^/?#]+', maxLength: 2000 });

export const TrustedIssuerInput = Type.Object(
  {
    slug: Slug,
    /** The `iss` value its tokens carry. */
    issuer: HttpUrl,
    jwksUrl: HttpUrl,
    /** The `aud` its tokens must carry to be accepted here. */
    audience: Type.String({ minLength: 1, maxLength: 500 }),
    algorithms: Type.Array(FederationAlgorithm, { minItems: 1, uniqueItems: true }),
    /** The claim that names the client there, e.g. `client_id` or `azp`. */
    clientClaim: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type TrustedIssuerInput = Static<typeof TrustedIssuerInput>;

export const TrustedIssuerPatch = Type.Partial(Type.Omit(TrustedIssuerInput, ['slug']), {
  additionalProperties: false,
});
export type TrustedIssuerPatch = Static<typeof TrustedIssuerPatch>;

export const TrustedIssuer = Type.Object({
  slug: Type.String(),
  issuer: Type.String(),
  jwksUrl: Type.String(),
  audience: Type.String(),
  algorithms: Type.Array(FederationAlgorithm),
  clientClaim: Type.String(),
  description: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type TrustedIssuer = Static<typeof TrustedIssuer>;

export const IssuerParams = Type.Object({ issuer: Type.String({ maxLength: 63 }) });
