import { type Static, Type } from 'typebox';
import { Timestamp } from '../common-schemas.js';

const SLUG = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/** `org/slug`, as the CLI and the YAML write an application or an API. */
export const QualifiedRef = Type.String({ pattern: `^${SLUG}/${SLUG}$`, maxLength: 127 });
export const VersionName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$' });

export const SUBSCRIPTION_STATES = ['pending', 'approved', 'rejected', 'suspended', 'revoked'] as const;
export const SubscriptionState = Type.Enum(SUBSCRIPTION_STATES);
export type SubscriptionState = Static<typeof SubscriptionState>;

export const DECISIONS = ['approve', 'reject', 'suspend', 'resume', 'revoke'] as const;
export const Decision = Type.Enum(DECISIONS);
export type Decision = Static<typeof Decision>;

/** Why the data is needed: the owner consents to this purpose (BKT 20(2), BTM 16(2), MUE 16(2)). */
export const Purpose = Type.String({ minLength: 10, maxLength: 1000 });

export const SubscriptionInput = Type.Object(
  {
    application: QualifiedRef,
    api: QualifiedRef,
    version: VersionName,
    purpose: Purpose,
  },
  { additionalProperties: false },
);
export type SubscriptionInput = Static<typeof SubscriptionInput>;

export const DecisionInput = Type.Object(
  {
    decision: Decision,
    /** Required to reject; recorded for every decision. */
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type DecisionInput = Static<typeof DecisionInput>;

export const Subscription = Type.Object({
  id: Type.String(),
  application: Type.String(),
  api: Type.String(),
  version: Type.String(),
  purpose: Type.String(),
  state: SubscriptionState,
  requestedBy: Type.String(),
  /** The named person who made the last decision. */
  decidedBy: Type.Optional(Type.Object({ id: Type.String(), username: Type.String(), name: Type.String() })),
  decidedAt: Type.Optional(Timestamp),
  reason: Type.Optional(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Subscription = Static<typeof Subscription>;

export const SubscriptionQuery = Type.Object(
  {
    state: Type.Optional(SubscriptionState),
    api: Type.Optional(QualifiedRef),
    application: Type.Optional(QualifiedRef),
  },
  { additionalProperties: false },
);
export type SubscriptionQuery = Static<typeof SubscriptionQuery>;

export const SubscriptionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
