import { type Static, Type } from 'typebox';
import { PERSON_ROLES, ROLE_NAMES } from '../../config.js';
import { AuditRecord, Slug, Timestamp } from '../common-schemas.js';

export const RoleName = Type.Enum(ROLE_NAMES);

export const ClientIdString = Type.String({ pattern: '^[a-zA-Z0-9._-]{3,64}$' });

export const UserInput = Type.Object(
  {
    username: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{1,62}$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    org: Slug,
    roles: Type.Array(Type.Enum(PERSON_ROLES), {
      minItems: 1,
      uniqueItems: true,
    }),
    /** The personal client's id; generated when absent. */
    clientId: Type.Optional(ClientIdString),
  },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInput>;

/** One secret of a client: when it was issued and when it stops working; never the secret or its hash. */
export const ClientSecretInfo = Type.Object({
  clientId: Type.String(),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()], {
    description:
      'when the secret stops working: its maximum age (SPL_SECRET_MAX_AGE_DAYS) or the end of a rotation overlap; null: never',
  }),
});

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  email: Type.Optional(Type.String()),
  org: Type.String(),
  roles: Type.Array(RoleName),
  disabled: Type.Boolean(),
  clientIds: Type.Array(Type.String()),
  /** The personal client's secrets that work now. */
  secrets: Type.Array(ClientSecretInfo),
  createdAt: Timestamp,
  /** When an operator erased the person (BKS 59(10)); name, e-mail and username are pseudonyms since. */
  erasedAt: Type.Optional(Timestamp),
});
export type User = Static<typeof User>;

/** Credentials shown once, at creation or rotation. */
export const IssuedCredentials = Type.Object({
  clientId: Type.String(),
  clientSecret: Type.String({ description: 'shown only in this answer; store it now' }),
});

export const Me = Type.Object({
  clientId: Type.String(),
  org: Type.String(),
  roles: Type.Array(RoleName),
  user: Type.Optional(User),
});

export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** An audit record as the person's export shows it (the chain's hash lets them check it). */
const ExportedAuditRecord = Type.Omit(AuditRecord, ['prevHash']);

/** Everything the hub stores about a person (`GET /v1/me/data`, BKS 59(10)); never a secret or hash. */
export const PersonalDataExport = Type.Object({
  exportedAt: Timestamp,
  person: User,
  organisation: Type.Object({ slug: Type.String(), name: Type.String(), kind: Type.String() }),
  clients: Type.Array(
    Type.Object({
      clientId: Type.String(),
      kind: Type.String(),
      roles: Type.Array(RoleName),
      disabled: Type.Boolean(),
      createdAt: Timestamp,
    }),
  ),
  /** Every secret ever issued to the person's clients, expired ones included: when, and until when. */
  secrets: Type.Array(ClientSecretInfo),
  /** Audit records where the person acted, or about the person or their clients. */
  audit: Type.Array(ExportedAuditRecord),
});
export type PersonalDataExport = Static<typeof PersonalDataExport>;
