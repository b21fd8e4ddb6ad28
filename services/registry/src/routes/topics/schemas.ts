import { type Static, Type } from 'typebox';
import { Classification, VersionState } from '../apis/schemas.js';
import { Slug, Timestamp } from '../common-schemas.js';
import { Decision, Purpose, QualifiedRef, SubscriptionState } from '../subscriptions/schemas.js';

/**
 * The limits the broker enforces for a topic (issue 4 §2, §4). Defaults: 64 KiB events,
 * 600 publishes a minute per publishing application, a 24-hour duplicate window and
 * 7 days of retention (docs/registry.md "Event topics").
 */
export const DEFAULT_TOPIC_LIMITS = {
  maxEventBytes: 65_536,
  publishPerMinute: 600,
  duplicateWindowSeconds: 86_400,
  retentionHours: 168,
} as const;

export const TopicLimits = Type.Object(
  {
    maxEventBytes: Type.Integer({
      minimum: 1,
      maximum: 1_048_576,
      description: 'bytes of the whole CloudEvent',
    }),
    publishPerMinute: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    duplicateWindowSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86_400 }),
    retentionHours: Type.Integer({ minimum: 1, maximum: 90 * 24 }),
  },
  { additionalProperties: false },
);
export type TopicLimits = Static<typeof TopicLimits>;

/** A JSON Schema 2020-12 of the event `data`; a JSON object (or its JSON text). */
export const EventSchemaSource = Type.Object({}, { additionalProperties: true });

export const TopicInput = Type.Object(
  {
    slug: Slug,
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    classification: Classification,
    schema: EventSchemaSource,
    limits: Type.Optional(Type.Partial(TopicLimits, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type TopicInput = Static<typeof TopicInput>;

export const TopicPatch = Type.Partial(Type.Omit(TopicInput, ['slug']), { additionalProperties: false });
export type TopicPatch = Static<typeof TopicPatch>;

export const Topic = Type.Object({
  org: Type.String(),
  slug: Type.String(),
  description: Type.String(),
  classification: Classification,
  state: VersionState,
  /** sha256 hex of the schema's canonical JSON (RFC 8785). */
  schemaHash: Type.String(),
  schema: Type.Object({}, { additionalProperties: true }),
  limits: TopicLimits,
  /** Applications of other organisations that may publish (`org/app`). */
  publishGrants: Type.Array(Type.String()),
  reviewNote: Type.Optional(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Topic = Static<typeof Topic>;

export const TopicQuery = Type.Object(
  {
    org: Type.Optional(Type.String({ maxLength: 63 })),
    state: Type.Optional(VersionState),
  },
  { additionalProperties: false },
);
export type TopicQuery = Static<typeof TopicQuery>;

export const TopicParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  topic: Type.String({ maxLength: 63 }),
});
export type TopicParams = Static<typeof TopicParams>;

export const PublishGrantInput = Type.Object({ application: QualifiedRef }, { additionalProperties: false });
export const PublishGrantParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  topic: Type.String({ maxLength: 63 }),
  appOrg: Type.String({ maxLength: 63 }),
  app: Type.String({ maxLength: 63 }),
});

export const TOPIC_SUBSCRIPTION_MODES = ['push', 'pull'] as const;

const EventType = Type.String({ minLength: 1, maxLength: 200 });

export const TopicSubscriptionInput = Type.Object(
  {
    application: QualifiedRef,
    topic: QualifiedRef,
    purpose: Purpose,
    mode: Type.Enum(TOPIC_SUBSCRIPTION_MODES),
    /** Push only: where the broker POSTs events (https; http only to loopback in development). */
    pushUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    /** Deliver only events whose CloudEvents `type` is listed. */
    types: Type.Optional(Type.Array(EventType, { minItems: 1, maxItems: 50, uniqueItems: true })),
    /** Deliver only events whose `subject` starts with one of these. */
    subjectPrefixes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false },
);
export type TopicSubscriptionInput = Static<typeof TopicSubscriptionInput>;

export const TopicSubscription = Type.Object({
  id: Type.String(),
  application: Type.String(),
  topic: Type.String(),
  purpose: Type.String(),
  state: SubscriptionState,
  mode: Type.Enum(TOPIC_SUBSCRIPTION_MODES),
  pushUrl: Type.Optional(Type.String()),
  types: Type.Optional(Type.Array(Type.String())),
  subjectPrefixes: Type.Optional(Type.Array(Type.String())),
  requestedBy: Type.String(),
  decidedBy: Type.Optional(Type.Object({ id: Type.String(), username: Type.String(), name: Type.String() })),
  /** The client of the last decision (a data plane's, when the broker suspended it). */
  decidedByClient: Type.Optional(Type.String()),
  decidedAt: Type.Optional(Timestamp),
  reason: Type.Optional(Type.String()),
  /** Push: how many signing secrets are valid now (2 during a rotation's overlap). */
  activeSecrets: Type.Optional(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type TopicSubscription = Static<typeof TopicSubscription>;

/** The Standard Webhooks secret, answered once: at creation and at rotation. */
export const WebhookSecretOnce = Type.Object({
  secret: Type.String({ pattern: '^whsec_', description: 'shown once; store it now' }),
  /** When the previous secrets stop signing (rotation only). */
  previousNotAfter: Type.Optional(Timestamp),
});

export const TopicSubscriptionCreated = Type.Object({
  ...TopicSubscription.properties,
  webhookSecret: Type.Optional(WebhookSecretOnce),
});
export type TopicSubscriptionCreated = Static<typeof TopicSubscriptionCreated>;

export const TopicSubscriptionQuery = Type.Object(
  {
    state: Type.Optional(SubscriptionState),
    topic: Type.Optional(QualifiedRef),
    application: Type.Optional(QualifiedRef),
  },
  { additionalProperties: false },
);
export type TopicSubscriptionQuery = Static<typeof TopicSubscriptionQuery>;

export const TopicSubscriptionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const TopicDecisionInput = Type.Object(
  {
    decision: Decision,
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const RotateWebhookSecretInput = Type.Object(
  {
    overlapSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 30 * 86_400,
        default: 86_400,
        description: 'how long the previous secrets keep signing, seconds',
      }),
    ),
  },
  { additionalProperties: false },
);

export const WebhookSecretRotated = Type.Object({
  subscription: Type.String(),
  ...WebhookSecretOnce.properties,
});

/** What a data plane says when it suspends a failing push subscription. */
export const DataplaneSuspensionInput = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
