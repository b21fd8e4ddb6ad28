import { type Static, Type } from 'typebox';
import { Slug, Timestamp } from '../common-schemas.js';

/**
 * Schemas of the SPBE evidence (issue 7; docs/spbe.md): the roster of Perangkat Daerah,
 * the reviews of the hub with their findings and improvement actions, and the report on
 * Indikator 18 of Permen PANRB 59/2020.
 */

const IsoDate = Type.String({ format: 'date', description: 'YYYY-MM-DD' });

export const RosterInput = Type.Object(
  {
    organisations: Type.Array(Slug, {
      maxItems: 1000,
      uniqueItems: true,
      description: 'slugs of the Perangkat Daerah of the region; replaces the roster',
    }),
  },
  { additionalProperties: false },
);
export type RosterInput = Static<typeof RosterInput>;

export const Roster = Type.Object({
  organisations: Type.Array(Type.Object({ slug: Type.String(), name: Type.String(), addedAt: Timestamp })),
});
export type Roster = Static<typeof Roster>;

/** Where an improvement action stands. */
export const ACTION_STATUSES = ['planned', 'in-progress', 'done'] as const;
export const ActionStatus = Type.Enum(ACTION_STATUSES);
export type ActionStatus = Static<typeof ActionStatus>;

const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$', description: 'e.g. T1, A1.2' });

export const ImprovementAction = Type.Object(
  {
    code: Code,
    description: Type.String({ minLength: 1, maxLength: 2000 }),
    status: ActionStatus,
    dueOn: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);
export type ImprovementAction = Static<typeof ImprovementAction>;

export const Finding = Type.Object(
  {
    code: Code,
    description: Type.String({ minLength: 1, maxLength: 2000 }),
    actions: Type.Optional(Type.Array(ImprovementAction, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type Finding = Static<typeof Finding>;

export const ReviewInput = Type.Object(
  {
    reviewedOn: IsoDate,
    scope: Type.String({ minLength: 1, maxLength: 2000 }),
    reviewer: Type.Optional(Type.String({ maxLength: 200, description: 'who reviewed (team, Inspektorat)' })),
    findings: Type.Optional(Type.Array(Finding, { maxItems: 200 })),
  },
  { additionalProperties: false },
);
export type ReviewInput = Static<typeof ReviewInput>;

export const Review = Type.Object({
  slug: Type.String(),
  reviewedOn: Type.String(),
  scope: Type.String(),
  reviewer: Type.String(),
  findings: Type.Array(
    Type.Object({
      code: Type.String(),
      description: Type.String(),
      actions: Type.Array(
        Type.Object({
          code: Type.String(),
          description: Type.String(),
          status: ActionStatus,
          dueOn: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Review = Static<typeof Review>;

export const ReviewParams = Type.Object({ review: Slug });

/** The hub document's `spbe` section (docs/declarative.md). */
export const HubSpbe = Type.Object(
  {
    roster: Type.Optional(RosterInput.properties.organisations),
    reviews: Type.Optional(
      Type.Array(Type.Object({ slug: Slug, ...ReviewInput.properties }, { additionalProperties: false }), {
        maxItems: 200,
      }),
    ),
  },
  { additionalProperties: false },
);
export type HubSpbe = Static<typeof HubSpbe>;

export const PeriodQuery = Type.Object(
  {
    period: Type.String({
      pattern: '^[0-9]{4}(-(0[1-9]|1[0-2]))?$',
      description: 'a calendar year (2026) or month (2026-03), UTC',
    }),
  },
  { additionalProperties: false },
);
export type PeriodQuery = Static<typeof PeriodQuery>;

export const MapQuery = Type.Object(
  {
    ...PeriodQuery.properties,
    format: Type.Optional(Type.Enum(['svg', 'png', 'dot'] as const, { default: 'svg' })),
  },
  { additionalProperties: false },
);

export const COVERAGE_STATUSES = ['both', 'publishes', 'consumes', 'neither'] as const;
export const CoverageStatus = Type.Enum(COVERAGE_STATUSES);
export type CoverageStatus = Static<typeof CoverageStatus>;

const LevelCheck = Type.Object({
  level: Type.Integer({ minimum: 1, maximum: 5 }),
  title: Type.String(),
  met: Type.Boolean(),
  reasons: Type.Array(Type.String(), { description: 'why the condition of this level is met or missed' }),
});

const CoverageRow = Type.Object({
  org: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  onRoster: Type.Boolean(),
  status: CoverageStatus,
  publishedApis: Type.Integer({ description: 'APIs with a version published during the period' }),
  publishedTopics: Type.Integer({ description: 'event topics published (0 until topics are wired)' }),
  consumedSubscriptions: Type.Integer({ description: 'granted subscriptions with traffic in the period' }),
  callsMade: Type.Integer({ description: 'successful (2xx/3xx) calls its applications made in the period' }),
  callsServed: Type.Integer({ description: 'calls to its APIs in the period, any status' }),
});

const Availability = Type.Object({
  measured: Type.Boolean(),
  percent: Type.Optional(Type.Number()),
  meetsTarget: Type.Optional(Type.Boolean()),
  note: Type.String(),
});

const BusApi = Type.Object({
  org: Type.String(),
  api: Type.String(),
  name: Type.String(),
  kind: Type.Enum(['api', 'topic'] as const),
  versions: Type.Array(Type.String()),
  consumers: Type.Array(Type.String(), { description: 'organisations with a granted subscription' }),
  calls: Type.Integer(),
  successfulCalls: Type.Integer(),
  errorRate: Type.Union([Type.Number(), Type.Null()], {
    description: 'share of 5xx answers; null without calls',
  }),
  slaTarget: Type.Number(),
  availability: Availability,
});

const FederationRow = Type.Object({
  slug: Type.String(),
  issuer: Type.String(),
  description: Type.String(),
  applications: Type.Integer({ description: 'applications bound to this issuer' }),
  calls: Type.Integer(),
  successfulCalls: Type.Integer(),
  apis: Type.Array(Type.Object({ org: Type.String(), api: Type.String(), calls: Type.Integer() })),
});

const MapNode = Type.Object({
  id: Type.String(),
  label: Type.String(),
  kind: Type.String({ description: 'an organisation kind, or trusted-issuer' }),
  status: Type.Optional(CoverageStatus),
  onRoster: Type.Boolean(),
});
const MapEdge = Type.Object({
  from: Type.String(),
  to: Type.String(),
  kind: Type.Enum(['api', 'topic', 'federation'] as const),
  apis: Type.Array(Type.String()),
  calls: Type.Integer(),
});

export const SpbeReport = Type.Object({
  indicator: Type.String(),
  period: Type.Object({ label: Type.String(), from: Timestamp, to: Timestamp, asOf: Timestamp }),
  generatedAt: Timestamp,
  level: Type.Integer({ minimum: 0, maximum: 5 }),
  levels: Type.Array(LevelCheck),
  coverage: Type.Object({
    rosterSize: Type.Integer(),
    both: Type.Integer(),
    publishes: Type.Integer(),
    consumes: Type.Integer(),
    neither: Type.Integer(),
    items: Type.Array(CoverageRow),
  }),
  apis: Type.Array(BusApi),
  federation: Type.Array(FederationRow),
  reviews: Type.Array(Review),
  map: Type.Object({ nodes: Type.Array(MapNode), edges: Type.Array(MapEdge) }),
});
export type SpbeReport = Static<typeof SpbeReport>;
export type CoverageRow = Static<typeof CoverageRow>;
export type BusApi = Static<typeof BusApi>;
export type FederationRow = Static<typeof FederationRow>;
export type LevelCheck = Static<typeof LevelCheck>;
export type MapNode = Static<typeof MapNode>;
export type MapEdge = Static<typeof MapEdge>;
export type Availability = Static<typeof Availability>;
