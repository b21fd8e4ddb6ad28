import { type Static, Type } from 'typebox';
import { Slug, Timestamp } from '../common-schemas.js';

export const MONEV_FORMATS = ['json', 'csv', 'html'] as const;

export const MonevQuery = Type.Object(
  {
    from: Timestamp,
    to: Timestamp,
    org: Type.Optional(Slug),
    format: Type.Optional(
      Type.Union(
        MONEV_FORMATS.map((f) => Type.Literal(f)),
        { description: 'default: from the Accept header (text/csv, text/html), else json' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MonevQuery = Static<typeof MonevQuery>;

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableBoolean = Type.Union([Type.Boolean(), Type.Null()]);

export const MonevReport = Type.Object({
  org: Type.Union([Type.String(), Type.Null()], { description: 'null: the whole hub' }),
  from: Timestamp,
  to: Timestamp,
  generatedAt: Timestamp,
  latencyBucketsMs: Type.Array(Type.Integer()),
  apis: Type.Array(
    Type.Object({
      org: Type.String(),
      api: Type.String(),
      version: Type.String(),
      state: Type.String(),
      calls: Type.Integer(),
      clientErrors: Type.Integer({ description: '4xx answers' }),
      serverErrors: Type.Integer({ description: '5xx answers' }),
      errorRate: Type.Union([Type.Number(), Type.Null()], { description: 'serverErrors / calls' }),
      latencyMs: Type.Object(
        { p50: NullableNumber, p95: NullableNumber, p99: NullableNumber },
        {
          description:
            'upper bound of the histogram bucket holding the percentile; null over 5,000 ms or without calls',
        },
      ),
      slaTarget: NullableNumber,
      probes: Type.Integer(),
      probesUp: Type.Integer(),
      probesExcluded: Type.Integer(),
      availability: NullableNumber,
      meetsTarget: NullableBoolean,
      incidents: Type.Array(
        Type.Object({
          start: Timestamp,
          end: Type.Union([Timestamp, Type.Null()]),
          durationSeconds: NullableNumber,
          probes: Type.Integer(),
        }),
      ),
      topConsumers: Type.Array(Type.Object({ application: Type.String(), calls: Type.Integer() })),
    }),
  ),
  topics: Type.Array(
    Type.Object({
      org: Type.String(),
      topic: Type.String(),
      events: Type.Integer(),
      deliveries: Type.Integer(),
      failedDeliveries: Type.Integer(),
      deadLetters: Type.Integer(),
      refused: Type.Integer(),
    }),
  ),
  topicsNote: Type.Union([Type.String(), Type.Null()]),
});
