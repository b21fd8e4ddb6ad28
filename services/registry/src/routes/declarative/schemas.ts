import { type Static, Type } from 'typebox';
import { ApiInput, VersionInput, VersionState } from '../apis/schemas.js';
import { ApplicationInput } from '../applications/schemas.js';
import { Slug } from '../common-schemas.js';
import { OrganisationInput } from '../organisations/schemas.js';
import { HubSpbe } from '../spbe/schemas.js';
import { QualifiedRef, SubscriptionInput } from '../subscriptions/schemas.js';
import { TopicInput, TopicSubscriptionInput } from '../topics/schemas.js';
import { TrustedIssuerInput } from '../trusted-issuers/schemas.js';
import { ClientIdString, UserInput } from '../users/schemas.js';

/**
 * The hub document `spl apply` loads and `spl export` writes (docs/declarative.md). Every
 * item is the REST API's own input schema plus where it belongs, so apply and REST cannot
 * disagree. Secrets arrive as `secret` (the CLI resolves `secretRef: env:NAME`) and are
 * never exported.
 */
const Secret = Type.String({
  minLength: 24,
  maxLength: 200,
  description: 'resolved from secretRef by the CLI',
});

const HubClient = Type.Object(
  { clientId: Type.Optional(ClientIdString), secret: Type.Optional(Secret) },
  { additionalProperties: false },
);

export const HubUser = Type.Object(
  {
    ...Type.Omit(UserInput, ['clientId']).properties,
    client: Type.Optional(HubClient),
  },
  { additionalProperties: false },
);
export type HubUser = Static<typeof HubUser>;

/**
 * How the hub authenticates to the upstream, as the file says it: the REST form with its
 * secret part (header value, OAuth2 client secret, mTLS private key) as `secret`, which the
 * CLI fills from `secretRef`. Left out for an existing version, the stored secret stays.
 */
const SecretRef = Type.Optional(
  Type.String({
    pattern: '^env:[A-Za-z_][A-Za-z0-9_]*$',
    description: 'where the CLI reads `secret` from; ignored by the server',
  }),
);

export const HubUpstreamAuth = Type.Union([
  Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('header'),
      name: Type.String({ minLength: 1, maxLength: 100 }),
      secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
      secretRef: SecretRef,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('oauth2'),
      tokenUrl: Type.String({ maxLength: 2048 }),
      clientId: Type.String({ minLength: 1, maxLength: 256 }),
      scope: Type.Optional(Type.String({ maxLength: 1000 })),
      secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
      secretRef: SecretRef,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('mtls'),
      certificatePem: Type.String({ minLength: 1, maxLength: 32_768 }),
      caPem: Type.Optional(Type.String({ minLength: 1, maxLength: 32_768 })),
      secret: Type.Optional(Type.String({ minLength: 1, maxLength: 32_768 })),
      secretRef: SecretRef,
    },
    { additionalProperties: false },
  ),
]);
export type HubUpstreamAuth = Static<typeof HubUpstreamAuth>;

export const HubVersion = Type.Object(
  {
    ...VersionInput.properties,
    upstreamAuth: Type.Optional(HubUpstreamAuth),
    /** Where the version should end up; apply moves it only as far as the caller's roles allow. */
    state: Type.Optional(VersionState),
  },
  { additionalProperties: false },
);
export type HubVersion = Static<typeof HubVersion>;

export const HubApi = Type.Object(
  {
    org: Slug,
    ...ApiInput.properties,
    versions: Type.Optional(Type.Array(HubVersion, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type HubApi = Static<typeof HubApi>;

export const HubApplication = Type.Object(
  {
    org: Slug,
    ...Type.Omit(ApplicationInput, ['credentials']).properties,
    /** SPL client credentials (omit for a federated application). */
    client: Type.Optional(HubClient),
  },
  { additionalProperties: false },
);
export type HubApplication = Static<typeof HubApplication>;

export const HubSubscription = Type.Object(
  {
    ...SubscriptionInput.properties,
    state: Type.Optional(Type.Enum(['pending', 'approved', 'suspended', 'revoked'] as const)),
  },
  { additionalProperties: false },
);
export type HubSubscription = Static<typeof HubSubscription>;

/** An event topic: the REST input, its owner, its lifecycle state and who else may publish. */
export const HubTopic = Type.Object(
  {
    org: Slug,
    ...TopicInput.properties,
    /** Applications of other organisations allowed to publish (`org/app`); the list is the whole truth. */
    publishGrants: Type.Optional(Type.Array(QualifiedRef, { maxItems: 200, uniqueItems: true })),
    state: Type.Optional(VersionState),
  },
  { additionalProperties: false },
);
export type HubTopic = Static<typeof HubTopic>;

/**
 * A subscription to a topic. A push subscription's signing secret is made by the registry
 * when the subscription is created and handed back once in `issuedCredentials` (kind
 * `topic_subscription`, `clientId` the subscription id); the file never holds it.
 */
export const HubTopicSubscription = Type.Object(
  {
    ...TopicSubscriptionInput.properties,
    state: Type.Optional(Type.Enum(['pending', 'approved', 'suspended', 'revoked'] as const)),
  },
  { additionalProperties: false },
);
export type HubTopicSubscription = Static<typeof HubTopicSubscription>;

export const HubDocument = Type.Object(
  {
    apiVersion: Type.Literal('spl/v1'),
    organisations: Type.Optional(Type.Array(OrganisationInput, { maxItems: 1000 })),
    users: Type.Optional(Type.Array(HubUser, { maxItems: 5000 })),
    trustedIssuers: Type.Optional(Type.Array(TrustedIssuerInput, { maxItems: 100 })),
    apis: Type.Optional(Type.Array(HubApi, { maxItems: 5000 })),
    applications: Type.Optional(Type.Array(HubApplication, { maxItems: 5000 })),
    subscriptions: Type.Optional(Type.Array(HubSubscription, { maxItems: 20000 })),
    topics: Type.Optional(Type.Array(HubTopic, { maxItems: 5000 })),
    topicSubscriptions: Type.Optional(Type.Array(HubTopicSubscription, { maxItems: 20000 })),
    /** The SPBE roster and reviews (docs/spbe.md). */
    spbe: Type.Optional(HubSpbe),
  },
  { additionalProperties: false },
);
export type HubDocument = Static<typeof HubDocument>;

export const ApplyQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

export const ApplyResponse = Type.Object({
  dryRun: Type.Boolean(),
  changed: Type.Boolean(),
  items: Type.Array(
    Type.Object({
      kind: Type.String(),
      id: Type.String(),
      result: Type.Enum(['created', 'updated', 'unchanged', 'transitioned', 'pending', 'refused'] as const),
      detail: Type.Optional(Type.String()),
    }),
  ),
  issuedCredentials: Type.Array(
    Type.Object({
      kind: Type.String(),
      id: Type.String(),
      clientId: Type.String(),
      clientSecret: Type.String(),
    }),
    { description: 'credentials generated by this apply, shown once' },
  ),
});
