import { type Static, Type } from 'typebox';
import { Slug, Timestamp } from '../common-schemas.js';
import { ClientIdString, ClientSecretInfo, IssuedCredentials } from '../users/schemas.js';

/** SPL client credentials: a client of kind `application`, its secret shown once. */
export const CredentialsInput = Type.Object(
  { clientId: Type.Optional(ClientIdString) },
  { additionalProperties: false },
);

/** A token from `issuer` whose client claim (the issuer's `clientClaim`) equals `clientClaimValue`. */
export const FederatedBinding = Type.Object(
  {
    issuer: Slug,
    clientClaimValue: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type FederatedBinding = Static<typeof FederatedBinding>;

export const ApplicationInput = Type.Object(
  {
    slug: Slug,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    credentials: Type.Optional(CredentialsInput),
    federated: Type.Optional(FederatedBinding),
  },
  {
    additionalProperties: false,
    description: 'exactly one of `credentials` (SPL client credentials) or `federated` (a trusted issuer)',
  },
);
export type ApplicationInput = Static<typeof ApplicationInput>;

export const ApplicationPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    /** Re-binds a federated application (not allowed for one with SPL credentials). */
    federated: Type.Optional(FederatedBinding),
  },
  { additionalProperties: false },
);
export type ApplicationPatch = Static<typeof ApplicationPatch>;

export const Application = Type.Object({
  org: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  kind: Type.Enum(['credentials', 'federated'] as const),
  /** SPL client ids of a `credentials` application (never a secret). */
  clientIds: Type.Array(Type.String()),
  /** The secrets of those clients that work now (empty for a federated application). */
  secrets: Type.Array(ClientSecretInfo),
  federated: Type.Optional(FederatedBinding),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Application = Static<typeof Application>;

export const ApplicationCreated = Type.Object({
  application: Application,
  credentials: Type.Optional(IssuedCredentials),
});

export const RotateSecretInput = Type.Object(
  {
    /** How long the secrets valid until now stay valid, seconds; 0 ends them at once. */
    overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86400, default: 86400 })),
  },
  { additionalProperties: false },
);
export type RotateSecretInput = Static<typeof RotateSecretInput>;

export const RotatedSecret = Type.Object({
  clientId: Type.String(),
  clientSecret: Type.String({ description: 'shown only in this answer; store it now' }),
  previousExpireAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()], {
    description: 'when the new secret stops working (SPL_SECRET_MAX_AGE_DAYS); null: never',
  }),
});

export const AppOrgParams = Type.Object({ org: Type.String({ maxLength: 63 }) });
export const AppParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  app: Type.String({ maxLength: 63 }),
});
