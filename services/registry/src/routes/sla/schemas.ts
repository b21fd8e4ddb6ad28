import { type Static, Type } from 'typebox';
import { GRANULARITIES } from '../../sla/availability.js';
import { Timestamp } from '../common-schemas.js';

export { ApiParams } from '../apis/schemas.js';

export const WindowParams = Type.Object({
  org: Type.String({ maxLength: 63 }),
  api: Type.String({ maxLength: 63 }),
  id: Type.String({ maxLength: 64 }),
});
export type WindowParams = Static<typeof WindowParams>;

export const AvailabilityQuery = Type.Object(
  {
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    granularity: Type.Optional(
      Type.Union(
        GRANULARITIES.map((g) => Type.Literal(g)),
        { default: 'day' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AvailabilityQuery = Static<typeof AvailabilityQuery>;

const Ratio = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
  description: 'up / probes, maintenance left out; null without a counted probe',
});
const MeetsTarget = Type.Union([Type.Boolean(), Type.Null()], {
  description: 'availability × 100 ≥ the API’s SLA target; null without a counted probe',
});

export const AvailabilityCounts = Type.Object({
  probes: Type.Integer({ description: 'probes counted (outside maintenance windows)' }),
  up: Type.Integer({ description: 'counted probes that found the version up' }),
  excluded: Type.Integer({ description: 'probes inside maintenance windows, not counted' }),
  availability: Ratio,
  meetsTarget: MeetsTarget,
});

export const AvailabilityPeriod = Type.Object({
  start: Timestamp,
  ...AvailabilityCounts.properties,
  maintenance: Type.Boolean({ description: 'a maintenance window overlaps this period' }),
});

export const MaintenanceWindow = Type.Object({
  id: Type.String(),
  org: Type.String(),
  api: Type.String(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  reason: Type.String(),
  createdAt: Timestamp,
});

export const MaintenanceWindowInput = Type.Object(
  {
    startsAt: Timestamp,
    endsAt: Timestamp,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export type MaintenanceWindowInput = Static<typeof MaintenanceWindowInput>;

export const MaintenanceWindowQuery = Type.Object(
  { from: Type.Optional(Timestamp), to: Type.Optional(Timestamp) },
  { additionalProperties: false },
);

export const AvailabilityReport = Type.Object({
  org: Type.String(),
  api: Type.String(),
  slaTarget: Type.Number({ description: 'percent; BKS 60(3)(m) asks at least 95' }),
  from: Timestamp,
  to: Timestamp,
  granularity: Type.String(),
  versions: Type.Array(
    Type.Object({
      version: Type.String(),
      state: Type.String(),
      total: AvailabilityCounts,
      periods: Type.Array(AvailabilityPeriod),
    }),
  ),
  maintenanceWindows: Type.Array(MaintenanceWindow),
});
