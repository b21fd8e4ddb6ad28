import { type Static, Type } from 'typebox';

/**
 * The snapshot wire format: what the registry compiles and the gateway and broker run from
 * (ARCHITECTURE "run from the last snapshot"). This file is the one source of its shape; the
 * TypeScript types below are derived from these schemas, and data planes validate every
 * document they receive or load from disk against them.
 *
 * It is a wire shape, not an in-memory model: a data plane builds its own lookup tables
 * (route trie, compiled validators, subscription sets) from it once per snapshot, never per
 * request (STYLE "Hot paths", "Keep the stored or wire shape apart").
 *
 * It never holds a private key or a plaintext secret. Upstream credentials stay sealed with
 * SPL_MASTER_KEY (AES-256-GCM, @spl/secret-box): the data planes are given the same master
 * key and open `upstreamAuth.sealedSecret` themselves, with `upstreamSecretContext(route.id)`
 * as the associated data, so a snapshot copied off a disk or read from a log reveals nothing.
 */

export const SNAPSHOT_FORMAT = 1;

export const ROUTE_STATES = ['published', 'deprecated'] as const;
export const SUBSCRIPTION_STATES = ['approved', 'suspended'] as const;
export const CLASSIFICATIONS = ['publik', 'terbatas', 'rahasia', 'dikecualikan'] as const;

/** A public JWK (RFC 7517) of the hub's token signing keys; `d` and other private members never appear. */
export const PublicJwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.Optional(Type.String()),
    use: Type.Optional(Type.String()),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwk>;

export const SnapshotTrustedIssuer = Type.Object({
  slug: Type.String(),
  issuer: Type.String(),
  jwksUrl: Type.String(),
  audience: Type.String(),
  algorithms: Type.Array(Type.String()),
  /** The claim whose value names the client at that issuer (e.g. `client_id`, `azp`). */
  clientClaim: Type.String(),
});
export type SnapshotTrustedIssuer = Static<typeof SnapshotTrustedIssuer>;

export const SnapshotOrganisation = Type.Object({ slug: Type.String(), kind: Type.String() });
export type SnapshotOrganisation = Static<typeof SnapshotOrganisation>;

export const SnapshotApplication = Type.Object({
  id: Type.String(),
  /** Slug of the owning organisation. */
  org: Type.String(),
  slug: Type.String(),
  /** The hub's own OAuth2 client ids of this application (active ones only). */
  clientIds: Type.Array(Type.String()),
  /** Set when the application is known by a trusted issuer's token instead. */
  federated: Type.Optional(Type.Object({ issuer: Type.String(), clientClaimValue: Type.String() })),
});
export type SnapshotApplication = Static<typeof SnapshotApplication>;

/**
 * How the hub authenticates to the upstream: the non-secret parts in the clear, the secret
 * part (header value, client secret or private key, as JSON) sealed.
 */
/** A secret sealed with SPL_MASTER_KEY (`v1.<keyId>.<iv>.<tag>.<ct>`); absent only if none was stored. */
const SealedSecret = Type.String({ pattern: '^v1\\.' });

export const SnapshotUpstreamAuth = Type.Union([
  Type.Object({ kind: Type.Literal('none') }),
  Type.Object({
    kind: Type.Literal('header'),
    name: Type.String(),
    sealedSecret: Type.Optional(SealedSecret),
  }),
  Type.Object({
    kind: Type.Literal('oauth2'),
    tokenUrl: Type.String(),
    clientId: Type.String(),
    scope: Type.Optional(Type.String()),
    sealedSecret: Type.Optional(SealedSecret),
  }),
  Type.Object({
    kind: Type.Literal('mtls'),
    certificatePem: Type.String(),
    caPem: Type.Optional(Type.String()),
    sealedSecret: Type.Optional(SealedSecret),
  }),
]);
export type SnapshotUpstreamAuth = Static<typeof SnapshotUpstreamAuth>;

export const SnapshotPlan = Type.Object({
  requestsPerMinute: Type.Integer({ minimum: 1 }),
  burst: Type.Optional(Type.Integer({ minimum: 1 })),
  quotaPerDay: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Largest accepted request body, bytes. */
  bodyLimitBytes: Type.Integer({ minimum: 0 }),
});
export type SnapshotPlan = Static<typeof SnapshotPlan>;

/** One published or deprecated API version: what the gateway routes `/{org}/{api}/{version}/…` to. */
export const SnapshotRoute = Type.Object({
  /** The version's id in the registry; also binds its sealed upstream secret. */
  id: Type.String(),
  org: Type.String(),
  api: Type.String(),
  version: Type.String(),
  state: Type.Enum(ROUTE_STATES),
  classification: Type.Enum(CLASSIFICATIONS),
  /** RFC 8594 Sunset of a deprecated version. */
  sunsetAt: Type.Optional(Type.String({ format: 'date-time' })),
  upstream: Type.Object({
    urls: Type.Array(Type.String(), { minItems: 1 }),
    /** Upstream timeout, milliseconds. */
    timeoutMs: Type.Integer({ minimum: 1 }),
    /**
     * Path on each upstream origin the gateway's active health check probes with HEAD
     * (`/health`); absent: the upstream URL's own path.
     */
    healthPath: Type.Optional(Type.String({ pattern: '^/' })),
  }),
  upstreamAuth: SnapshotUpstreamAuth,
  plan: SnapshotPlan,
  /** HTTP methods the OpenAPI document declares (upper case). */
  methods: Type.Array(Type.String()),
  /** Key into `openapi`: sha256 hex of the document's canonical JSON. */
  openapiHash: Type.String(),
  /** Schema fields marked `x-spl-classification: dikecualikan`: never logged. */
  restrictedFields: Type.Array(Type.String()),
});
export type SnapshotRoute = Static<typeof SnapshotRoute>;

export const SnapshotSubscription = Type.Object({
  applicationId: Type.String(),
  /** Organisation, API and version slugs of the route subscribed to. */
  org: Type.String(),
  api: Type.String(),
  version: Type.String(),
  /** A suspended subscription is listed so the gateway can say so (403), not only "none". */
  state: Type.Enum(SUBSCRIPTION_STATES),
});
export type SnapshotSubscription = Static<typeof SnapshotSubscription>;

export const TOPIC_SUBSCRIPTION_MODES = ['push', 'pull'] as const;

/**
 * One published or deprecated event topic: what the broker accepts CloudEvents for at
 * `POST /v1/topics/{org}/{topic}/events` (issue 4). Its event data schema (JSON Schema
 * 2020-12) is stored once by content hash in `eventSchemas`.
 */
export const SnapshotTopic = Type.Object({
  /** The topic's id in the registry. */
  id: Type.String(),
  org: Type.String(),
  topic: Type.String(),
  state: Type.Enum(ROUTE_STATES),
  classification: Type.Enum(CLASSIFICATIONS),
  /** Key into `eventSchemas`: sha256 hex of the schema's canonical JSON. */
  schemaHash: Type.String(),
  /** Applications allowed to publish: the owner organisation's applications and holders of a publish grant. */
  publisherApplicationIds: Type.Array(Type.String()),
  limits: Type.Object({
    /** Largest accepted CloudEvent (whole HTTP body), bytes. */
    maxEventBytes: Type.Integer({ minimum: 1 }),
    /** Publishes per minute per publishing application. */
    publishPerMinute: Type.Integer({ minimum: 1 }),
    /** The same `source` + `id` within this many seconds is a duplicate. */
    duplicateWindowSeconds: Type.Integer({ minimum: 0 }),
    /** How long events stay replayable, hours. */
    retentionHours: Type.Integer({ minimum: 1 }),
  }),
});
export type SnapshotTopic = Static<typeof SnapshotTopic>;

/** A Standard Webhooks signing secret, sealed; several are active while a rotation overlaps. */
export const SnapshotWebhookSecret = Type.Object({
  /** Sealed `whsec_…` secret; associated data `webhookSecretContext(subscriptionId)`. */
  sealedSecret: SealedSecret,
  /** After this instant the secret no longer signs (end of a rotation's overlap). */
  notAfter: Type.Optional(Type.String({ format: 'date-time' })),
});
export type SnapshotWebhookSecret = Static<typeof SnapshotWebhookSecret>;

/** An approved (or suspended) subscription of an application to a topic. */
export const SnapshotTopicSubscription = Type.Object({
  id: Type.String(),
  applicationId: Type.String(),
  org: Type.String(),
  topic: Type.String(),
  state: Type.Enum(SUBSCRIPTION_STATES),
  mode: Type.Enum(TOPIC_SUBSCRIPTION_MODES),
  /** Push only: where events are POSTed, and the secrets that sign them. */
  push: Type.Optional(
    Type.Object({ url: Type.String(), secrets: Type.Array(SnapshotWebhookSecret, { minItems: 1 }) }),
  ),
  /** Deliver only events whose `type` is listed (all when absent). */
  types: Type.Optional(Type.Array(Type.String())),
  /** Deliver only events whose `subject` starts with one of these prefixes (all when absent). */
  subjectPrefixes: Type.Optional(Type.Array(Type.String())),
});
export type SnapshotTopicSubscription = Static<typeof SnapshotTopicSubscription>;

export const Snapshot = Type.Object({
  format: Type.Literal(SNAPSHOT_FORMAT),
  /**
   * The registry's audit-log head when this content was compiled: grows with every change,
   * so a data plane never swaps in an older snapshot than the one it runs.
   */
  version: Type.Integer({ minimum: 0 }),
  /** sha256 of the content (everything but `version`, `etag` and `generatedAt`); the HTTP ETag. */
  etag: Type.String(),
  generatedAt: Type.String({ format: 'date-time' }),
  /** The hub's token issuer (SPL_PUBLIC_URL) and audience. */
  issuer: Type.String(),
  audience: Type.String(),
  /** The hub's public signing keys, a retired key included until its last token expires. */
  hubKeys: Type.Object({ keys: Type.Array(PublicJwk) }),
  trustedIssuers: Type.Array(SnapshotTrustedIssuer),
  organisations: Type.Array(SnapshotOrganisation),
  applications: Type.Array(SnapshotApplication),
  routes: Type.Array(SnapshotRoute),
  /** OpenAPI documents by content hash, each once however many routes share it. */
  openapi: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
  subscriptions: Type.Array(SnapshotSubscription),
  /** Event topics (issue 4); absent in snapshots from before topics existed. */
  topics: Type.Optional(Type.Array(SnapshotTopic)),
  /** Event data JSON Schemas by content hash. */
  eventSchemas: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()))),
  topicSubscriptions: Type.Optional(Type.Array(SnapshotTopicSubscription)),
});
export type Snapshot = Static<typeof Snapshot>;

/** What the registry publishes on its change channel after a compile that changed the content. */
export const SnapshotNotice = Type.Object({ version: Type.Integer(), etag: Type.String() });
export type SnapshotNotice = Static<typeof SnapshotNotice>;

/** Associated data a route's sealed upstream secret was sealed with (see @spl/secret-box). */
export function upstreamSecretContext(routeId: string): string {
  return `upstream-secret:${routeId}`;
}

/** Associated data a push subscription's sealed webhook secret was sealed with. */
export function webhookSecretContext(subscriptionId: string): string {
  return `webhook-secret:${subscriptionId}`;
}
