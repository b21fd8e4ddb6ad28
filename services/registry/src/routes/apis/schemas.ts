import { type Static, Type } from 'typebox';
import { Contact, Slug, Timestamp } from '../common-schemas.js';

/** Data classification of an API (BKS 59(6)(d), 59(10); MUE 31(2)). */
export const CLASSIFICATIONS = ['publik', 'terbatas', 'rahasia', 'dikecualikan'] as const;
export const Classification = Type.Enum(CLASSIFICATIONS);
export type Classification = Static<typeof Classification>;

/** A version's lifecycle states (DIGEST §9.3), in order. */
export const VERSION_STATES = [
  'draft',
  'submitted',
  'kelaikan_operasi',
  'kelaikan_keamanan',
  'published',
  'deprecated',
  'retired',
] as const;
export const VersionState = Type.Enum(VERSION_STATES);
export type VersionState = Static<typeof VersionState>;

export const LIFECYCLE_ACTIONS = ['submit', 'approve', 'reject', 'publish', 'deprecate', 'retire'] as const;
export const LifecycleAction = Type.Enum(LIFECYCLE_ACTIONS);
export type LifecycleAction = Static<typeof LifecycleAction>;

/** Satu Data Indonesia metadata (BKS 16(2), 17(1)). */
export const SatuData = Type.Object(
  {
    produsenData: Type.String({ minLength: 1, maxLength: 200 }),
    walidata: Type.String({ minLength: 1, maxLength: 200 }),
    jadwalPemutakhiran: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'update schedule, e.g. harian, mingguan, bulanan',
    }),
  },
  { additionalProperties: false },
);
export type SatuData = Static<typeof SatuData>;

export const ApiInput = Type.Object(
  {
    slug: Slug,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    tags: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), { maxItems: 20, uniqueItems: true }),
    ),
    classification: Classification,
    slaTarget: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        default: 95,
        description: 'availability target, percent (BKS 60(3)(m))',
      }),
    ),
    contact: Type.Optional(Contact),
    satuData: Type.Optional(SatuData),
  },
  { additionalProperties: false },
);
export type ApiInput = Static<typeof ApiInput>;

export const ApiPatch = Type.Partial(Type.Omit(ApiInput, ['slug']), { additionalProperties: false });
export type ApiPatch = Static<typeof ApiPatch>;

export const VersionSummary = Type.Object({ version: Type.String(), state: VersionState });
export type VersionSummary = Static<typeof VersionSummary>;

export const Api = Type.Object({
  org: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  classification: Classification,
  slaTarget: Type.Number(),
  contact: Type.Optional(Contact),
  satuData: Type.Optional(SatuData),
  versions: Type.Array(VersionSummary),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Api = Static<typeof Api>;

export const CatalogQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200 })),
    tag: Type.Optional(Type.String({ maxLength: 63 })),
    org: Type.Optional(Type.String({ maxLength: 63 })),
    classification: Type.Optional(Classification),
    state: Type.Optional(VersionState),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);
export type CatalogQuery = Static<typeof CatalogQuery>;

export const CatalogPage = Type.Object({
  items: Type.Array(Api),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});
export type CatalogPage = Static<typeof CatalogPage>;

const HttpUrl = Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$', maxLength: 2048 });

export const Upstream = Type.Object(
  {
    urls: Type.Array(HttpUrl, { minItems: 1, maxItems: 8 }),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 120_000, default: 10_000, description: 'milliseconds' }),
    healthPath: Type.Optional(
      Type.String({
        pattern: '^/[^\\s#]*$',
        maxLength: 500,
        description:
          "path on each upstream origin that health checks probe with HEAD (the registry's SLA prober, the gateway's active checks); absent: the upstream URL's own path",
      }),
    ),
  },
  { additionalProperties: false },
);
export type Upstream = Static<typeof Upstream>;

const HeaderName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$" });
const Pem = Type.String({ minLength: 1, maxLength: 32_768 });

/**
 * How the hub authenticates to the upstream. The secret parts (header `value`,
 * `clientSecret`, `privateKeyPem`) are sealed at rest and never answered.
 */
export const UpstreamAuthInput = Type.Union([
  Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('header'), name: HeaderName, value: Type.String({ minLength: 1, maxLength: 4096 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('oauth2'),
      tokenUrl: HttpUrl,
      clientId: Type.String({ minLength: 1, maxLength: 256 }),
      clientSecret: Type.String({ minLength: 1, maxLength: 4096 }),
      scope: Type.Optional(Type.String({ maxLength: 1000 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('mtls'), certificatePem: Pem, privateKeyPem: Pem, caPem: Type.Optional(Pem) },
    { additionalProperties: false },
  ),
]);
export type UpstreamAuthInput = Static<typeof UpstreamAuthInput>;

/** The answered (and stored, unsealed) form: no secret, only whether one is held. */
export const UpstreamAuth = Type.Union([
  Type.Object({ kind: Type.Literal('none') }),
  Type.Object({ kind: Type.Literal('header'), name: Type.String() }),
  Type.Object({
    kind: Type.Literal('oauth2'),
    tokenUrl: Type.String(),
    clientId: Type.String(),
    scope: Type.Optional(Type.String()),
  }),
  Type.Object({
    kind: Type.Literal('mtls'),
    certificatePem: Type.String(),
    caPem: Type.Optional(Type.String()),
  }),
]);
export type UpstreamAuth = Static<typeof UpstreamAuth>;

export const Plan = Type.Object(
  {
    requestsPerMinute: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    quotaPerDay: Type.Optional(Type.Integer({ minimum: 1 })),
    bodyLimitBytes: Type.Integer({ minimum: 0, maximum: 100 * 1024 * 1024, default: 1024 * 1024 }),
  },
  { additionalProperties: false },
);
export type Plan = Static<typeof Plan>;

/** An OpenAPI 3.0/3.1 document: JSON or YAML text, or the JSON object itself. */
export const OpenApiSource = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({}, { additionalProperties: true }),
]);
export type OpenApiSource = Static<typeof OpenApiSource>;

/** A version slug (`v1`, `2024-01`): the third segment of a gateway route, so no reserved words apply. */
export const VersionSlug = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'lowercase letters, digits and hyphens, e.g. v1',
});

export const VersionInput = Type.Object(
  {
    version: VersionSlug,
    openapi: OpenApiSource,
    upstream: Upstream,
    upstreamAuth: Type.Optional(UpstreamAuthInput),
    plan: Plan,
    sunsetAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type VersionInput = Static<typeof VersionInput>;

export const VersionPatch = Type.Partial(Type.Omit(VersionInput, ['version']), {
  additionalProperties: false,
});
export type VersionPatch = Static<typeof VersionPatch>;

export const ApiVersion = Type.Object({
  org: Type.String(),
  api: Type.String(),
  version: Type.String(),
  state: VersionState,
  openapiHash: Type.String(),
  methods: Type.Array(Type.String()),
  restrictedFields: Type.Array(Type.String(), { description: 'JSON pointers into the OpenAPI document' }),
  restrictedFieldNames: Type.Array(Type.String()),
  upstream: Upstream,
  upstreamAuth: UpstreamAuth,
  hasSecret: Type.Boolean(),
  plan: Plan,
  reviewNote: Type.Optional(Type.String()),
  sunsetAt: Type.Optional(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ApiVersion = Static<typeof ApiVersion>;

export const TransitionInput = Type.Object(
  {
    action: LifecycleAction,
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    sunsetAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type TransitionInput = Static<typeof TransitionInput>;

export const Transition = Type.Object({
  action: LifecycleAction,
  from: VersionState,
  to: VersionState,
  clientId: Type.String(),
  userId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  at: Timestamp,
});
export type Transition = Static<typeof Transition>;

export const OrgParams = Type.Object({ org: Type.String({ maxLength: 63 }) });
export const ApiParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  api: Type.String({ maxLength: 63 }),
});
export type ApiParams = Static<typeof ApiParams>;
export const VersionParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  api: Type.String({ maxLength: 63 }),
  version: Type.String({ maxLength: 63 }),
});
export type VersionParams = Static<typeof VersionParams>;
