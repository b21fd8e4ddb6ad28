import { type Static, Type } from 'typebox';

/** Names reserved by the gateway's URL space (public contract). */
export const RESERVED_SLUGS = ['healthz', 'readyz', 'metrics', 'docs', 'oauth2', 'v1'];

/** Lowercase letters, digits and hyphens; not a reserved word, not starting with `.`. */
export const Slug = Type.String({
  pattern: `^(?!(?:${RESERVED_SLUGS.join('|')})$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`,
  description:
    'lowercase letters, digits and hyphens; healthz, readyz, metrics, docs, oauth2 and v1 are reserved',
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String(),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const problemResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
} as const;

export const Contact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(Type.String({ pattern: '^[+0-9 ()-]{5,30}$' })),
  },
  { additionalProperties: false },
);
export type Contact = Static<typeof Contact>;

export const Timestamp = Type.String({ format: 'date-time' });

/** One record of the hash-chained audit trail (GET /v1/audit; a person's export). */
export const AuditRecord = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  actor: Type.Object({
    clientId: Type.String(),
    org: Type.String(),
    roles: Type.Array(Type.String()),
    userId: Type.Optional(Type.String()),
  }),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
  prevHash: Type.String(),
  hash: Type.String(),
});
