import type { Sql } from '../store/database.js';

/** One probe of one API version, as the prober found it. */
export interface ProbeResult {
  versionId: string;
  at: Date;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

export interface DbProbeResultRow {
  id: number;
  version_id: string;
  at: Date;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  error: string | null;
}

/** Stores a round's results in one statement. */
export async function insertProbeResults(db: Sql, results: readonly ProbeResult[]): Promise<void> {
  if (results.length === 0) return;
  const params: unknown[] = [];
  const rows = results.map((r) => {
    params.push(r.versionId, r.at.toISOString(), r.ok, r.status, r.latencyMs, r.error?.slice(0, 500) ?? null);
    const n = params.length;
    return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
  });
  await db.query(
    `INSERT INTO probe_results (version_id, at, ok, status, latency_ms, error) VALUES ${rows.join(', ')}`,
    params,
  );
}
