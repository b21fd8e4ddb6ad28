import type { Sql } from '../store/database.js';
import type { UsageRecordJson } from './usage-record.js';

/**
 * Inserts usage records, each at most once: a record id already stored (a redelivered or
 * re-sent stream entry) is skipped. Give it a transaction. Returns how many were new.
 */
export async function insertUsageRecords(tx: Sql, records: readonly UsageRecordJson[]): Promise<number> {
  let inserted = 0;
  for (const r of records) {
    const rows = await tx.query(
      `INSERT INTO usage_minutes (record_id, minute, instance_id, route_id, org, api, version,
         application_id, issuer, status_class, count, bytes_in, bytes_out, latency, kind, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (record_id) DO NOTHING
       RETURNING record_id`,
      [
        r.recordId,
        r.minute,
        r.instanceId,
        r.routeId,
        r.org,
        r.api,
        r.version,
        r.applicationId,
        r.issuer,
        r.statusClass,
        r.count,
        r.bytesIn,
        r.bytesOut,
        r.latency,
        r.kind ?? 'call',
        r.outcome ?? null,
      ],
    );
    inserted += rows.length;
  }
  return inserted;
}
