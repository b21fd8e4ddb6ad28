import type { Sql } from '../store/database.js';
import { availabilityByPeriod, availabilityTotals, type Granularity, nextPeriod } from './availability.js';
import { type DbMaintenanceWindowRow, listMaintenanceWindows, windowOfRow } from './maintenance-windows.js';

/** An API and the versions whose availability is asked for. */
export interface SlaApi {
  id: string;
  org: string;
  slug: string;
  /** Percent. */
  slaTarget: number;
  versions: Array<{ id: string; version: string; state: string }>;
}

const meets = (availability: number | null, targetPercent: number) =>
  availability === null ? null : availability * 100 >= targetPercent;

/** Whether a window overlaps [start, end). */
export function overlaps(
  w: Pick<DbMaintenanceWindowRow, 'starts_at' | 'ends_at'>,
  start: Date,
  end: Date,
): boolean {
  return new Date(w.starts_at) < end && new Date(w.ends_at) > start;
}

/** GET /v1/apis/{org}/{api}/availability: per version, per period and in total, with the windows. */
export async function buildAvailabilityReport(
  db: Sql,
  input: { api: SlaApi; from: Date; to: Date; granularity: Granularity },
) {
  const { api, from, to, granularity } = input;
  const versionIds = api.versions.map((v) => v.id);
  const [periods, totals, windows] = await Promise.all([
    availabilityByPeriod(db, { versionIds, from, to, granularity }),
    availabilityTotals(db, { versionIds, from, to }),
    listMaintenanceWindows(db, { apiIds: [api.id], from, to }),
  ]);
  return {
    org: api.org,
    api: api.slug,
    slaTarget: api.slaTarget,
    from: from.toISOString(),
    to: to.toISOString(),
    granularity,
    versions: api.versions.map((v) => {
      const total = totals.get(v.id)!;
      return {
        version: v.version,
        state: v.state,
        total: { ...total, meetsTarget: meets(total.availability, api.slaTarget) },
        periods: periods.get(v.id)!.map((p) => ({
          start: p.start.toISOString(),
          probes: p.probes,
          up: p.up,
          excluded: p.excluded,
          availability: p.availability,
          meetsTarget: meets(p.availability, api.slaTarget),
          maintenance: windows.some((w) => overlaps(w, p.start, nextPeriod(p.start, granularity))),
        })),
      };
    }),
    maintenanceWindows: windows.map((w) => windowOfRow(w, api.org, api.slug)),
  };
}
