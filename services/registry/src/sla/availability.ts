import type { Sql } from '../store/database.js';

/**
 * Availability as BKS 60(3)(m) measures it: of the probes of an API version in a period,
 * the share that found it up — probes inside a maintenance window its owner declared
 * counted neither way (`excluded`). A period without a counted probe has no availability
 * (null), which is not the same as 0. Periods are UTC calendar days, months or years.
 */
export const GRANULARITIES = ['day', 'month', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface PeriodAvailability {
  /** Start of the period (UTC). */
  start: Date;
  probes: number;
  up: number;
  /** Probes inside maintenance windows, left out of `probes` and `up`. */
  excluded: number;
  /** up / probes; null without a counted probe. */
  availability: number | null;
}

export interface Incident {
  versionId: string;
  /** First failed probe. */
  start: Date;
  /** First probe that found it up again; null while it is still down. */
  end: Date | null;
  /** Failed probes in a row. */
  probes: number;
}

/** The start of the period holding `at` (UTC). */
export function periodStart(at: Date, granularity: Granularity): Date {
  const y = at.getUTCFullYear();
  if (granularity === 'year') return new Date(Date.UTC(y, 0, 1));
  if (granularity === 'month') return new Date(Date.UTC(y, at.getUTCMonth(), 1));
  return new Date(Date.UTC(y, at.getUTCMonth(), at.getUTCDate()));
}

export function nextPeriod(start: Date, granularity: Granularity): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  if (granularity === 'year') return new Date(Date.UTC(y + 1, 0, 1));
  if (granularity === 'month') return new Date(Date.UTC(y, m + 1, 1));
  return new Date(Date.UTC(y, m, start.getUTCDate() + 1));
}

/** Every period start in [from, to), the first one holding `from`. */
export function periodsBetween(from: Date, to: Date, granularity: Granularity): Date[] {
  const out: Date[] = [];
  for (let p = periodStart(from, granularity); p < to; p = nextPeriod(p, granularity)) out.push(p);
  return out;
}

// Each probe in [$2, $3) of the versions $1, and whether a maintenance window of its API holds it.
const PROBES_IN_RANGE = `SELECT r.version_id, r.at, r.ok,
         EXISTS (SELECT 1 FROM maintenance_windows m
                  WHERE m.api_id = v.api_id AND r.at >= m.starts_at AND r.at < m.ends_at) AS in_maintenance
    FROM probe_results r JOIN api_versions v ON v.id = r.version_id
   WHERE r.version_id = ANY($1) AND r.at >= $2 AND r.at < $3`;

interface DbCountsRow {
  version_id: string;
  period: Date | string | null;
  probes: number;
  up: number;
  excluded: number;
}

const ratio = (up: number, probes: number) => (probes > 0 ? up / probes : null);

/**
 * Availability of each version per period over [from, to), every period listed (those
 * without probes too). Keyed by version id.
 */
export async function availabilityByPeriod(
  db: Sql,
  input: { versionIds: readonly string[]; from: Date; to: Date; granularity: Granularity },
): Promise<Map<string, PeriodAvailability[]>> {
  const rows = await db.query<DbCountsRow>(
    `SELECT p.version_id, date_trunc($4::text, p.at, 'UTC') AS period,
            count(*) FILTER (WHERE NOT p.in_maintenance)::int AS probes,
            count(*) FILTER (WHERE p.ok AND NOT p.in_maintenance)::int AS up,
            count(*) FILTER (WHERE p.in_maintenance)::int AS excluded
       FROM (${PROBES_IN_RANGE}) p
      GROUP BY 1, 2`,
    [input.versionIds, input.from.toISOString(), input.to.toISOString(), input.granularity],
  );
  const found = new Map(rows.map((r) => [`${r.version_id}|${new Date(r.period!).getTime()}`, r]));
  const periods = periodsBetween(input.from, input.to, input.granularity);
  const out = new Map<string, PeriodAvailability[]>();
  for (const id of input.versionIds)
    out.set(
      id,
      periods.map((start) => {
        const r = found.get(`${id}|${start.getTime()}`);
        const probes = r ? Number(r.probes) : 0;
        const up = r ? Number(r.up) : 0;
        return { start, probes, up, excluded: r ? Number(r.excluded) : 0, availability: ratio(up, probes) };
      }),
    );
  return out;
}

/** Availability of each version over the whole of [from, to). */
export async function availabilityTotals(
  db: Sql,
  input: { versionIds: readonly string[]; from: Date; to: Date },
): Promise<Map<string, Omit<PeriodAvailability, 'start'>>> {
  const rows = await db.query<DbCountsRow>(
    `SELECT p.version_id, NULL AS period,
            count(*) FILTER (WHERE NOT p.in_maintenance)::int AS probes,
            count(*) FILTER (WHERE p.ok AND NOT p.in_maintenance)::int AS up,
            count(*) FILTER (WHERE p.in_maintenance)::int AS excluded
       FROM (${PROBES_IN_RANGE}) p
      GROUP BY 1`,
    [input.versionIds, input.from.toISOString(), input.to.toISOString()],
  );
  const byId = new Map(rows.map((r) => [r.version_id, r]));
  return new Map(
    input.versionIds.map((id) => {
      const r = byId.get(id);
      const probes = r ? Number(r.probes) : 0;
      const up = r ? Number(r.up) : 0;
      return [id, { probes, up, excluded: r ? Number(r.excluded) : 0, availability: ratio(up, probes) }];
    }),
  );
}

/**
 * Down periods: runs of consecutive failed probes (maintenance left out) in [from, to).
 * A run ends at the first probe that found the version up again, which may lie after `to`.
 * Gaps and islands: a run's failed probes share the count of up probes before them.
 */
export async function listIncidents(
  db: Sql,
  input: { versionIds: readonly string[]; from: Date; to: Date },
): Promise<Incident[]> {
  const rows = await db.query<{ version_id: string; start: Date; last_failed: Date; probes: number }>(
    `WITH counted AS (
       SELECT p.version_id, p.at, p.ok,
              sum(CASE WHEN p.ok THEN 1 ELSE 0 END) OVER (PARTITION BY p.version_id ORDER BY p.at) AS run
         FROM (${PROBES_IN_RANGE}) p
        WHERE NOT p.in_maintenance)
     SELECT version_id, min(at) AS start, max(at) AS last_failed, count(*)::int AS probes
       FROM counted WHERE NOT ok
      GROUP BY version_id, run
      ORDER BY min(at), version_id`,
    [input.versionIds, input.from.toISOString(), input.to.toISOString()],
  );
  const out: Incident[] = [];
  for (const r of rows) {
    const [next] = await db.query<{ at: Date | null }>(
      'SELECT min(at) AS at FROM probe_results WHERE version_id = $1 AND at > $2 AND ok',
      [r.version_id, new Date(r.last_failed).toISOString()],
    );
    out.push({
      versionId: r.version_id,
      start: new Date(r.start),
      end: next?.at ? new Date(next.at) : null,
      probes: Number(r.probes),
    });
  }
  return out;
}
