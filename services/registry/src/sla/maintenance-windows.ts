import { randomUUID } from 'node:crypto';
import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import type { Sql } from '../store/database.js';

/**
 * Maintenance windows an API's owner declares ahead (or after the fact): probes inside one
 * count neither for nor against the API's availability (sla/availability.ts), and the
 * status page marks the days they touch. Created and removed with an audit record.
 */
export interface MaintenanceWindow {
  id: string;
  org: string;
  api: string;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdAt: string;
}

export interface DbMaintenanceWindowRow {
  id: string;
  api_id: string;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  created_at: Date;
}

/** The longest window one declaration may cover: a longer outage is not maintenance. */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

export function windowOfRow(row: DbMaintenanceWindowRow, org: string, api: string): MaintenanceWindow {
  return {
    id: row.id,
    org,
    api,
    startsAt: new Date(row.starts_at).toISOString(),
    endsAt: new Date(row.ends_at).toISOString(),
    reason: row.reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

const audited = (w: MaintenanceWindow) => ({
  org: w.org,
  api: w.api,
  startsAt: w.startsAt,
  endsAt: w.endsAt,
  reason: w.reason,
});

export async function createMaintenanceWindow(
  tx: Sql,
  audit: RecordAudit,
  api: { id: string; org: string; slug: string },
  input: { startsAt: string; endsAt: string; reason: string },
  now: Date,
): Promise<MaintenanceWindow> {
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (!(startsAt < endsAt)) throw errors.SPL_VALIDATION('startsAt must be before endsAt');
  if (endsAt.getTime() - startsAt.getTime() > MAX_WINDOW_MS)
    throw errors.SPL_VALIDATION('a maintenance window spans at most 7 days');
  const [row] = await tx.query<DbMaintenanceWindowRow>(
    `INSERT INTO maintenance_windows (id, api_id, starts_at, ends_at, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [randomUUID(), api.id, startsAt.toISOString(), endsAt.toISOString(), input.reason, now.toISOString()],
  );
  const window = windowOfRow(row!, api.org, api.slug);
  await audit({
    action: 'maintenance-window.create',
    entityType: 'maintenance-window',
    entityId: window.id,
    after: audited(window),
  });
  return window;
}

export async function deleteMaintenanceWindow(
  tx: Sql,
  audit: RecordAudit,
  api: { id: string; org: string; slug: string },
  id: string,
): Promise<void> {
  const [row] = await tx.query<DbMaintenanceWindowRow>(
    'DELETE FROM maintenance_windows WHERE id = $1 AND api_id = $2 RETURNING *',
    [id, api.id],
  );
  if (!row) throw errors.SPL_NOT_FOUND(`no maintenance window ${id} of ${api.org}/${api.slug}`);
  await audit({
    action: 'maintenance-window.delete',
    entityType: 'maintenance-window',
    entityId: id,
    before: audited(windowOfRow(row, api.org, api.slug)),
  });
}

/** Windows of the APIs that overlap [from, to), oldest first; keyed by API id. */
export async function listMaintenanceWindows(
  db: Sql,
  input: { apiIds: readonly string[]; from?: Date; to?: Date },
): Promise<DbMaintenanceWindowRow[]> {
  return db.query<DbMaintenanceWindowRow>(
    `SELECT * FROM maintenance_windows
      WHERE api_id = ANY($1) AND ($2::timestamptz IS NULL OR ends_at > $2) AND ($3::timestamptz IS NULL OR starts_at < $3)
      ORDER BY starts_at, id`,
    [input.apiIds, input.from?.toISOString() ?? null, input.to?.toISOString() ?? null],
  );
}
