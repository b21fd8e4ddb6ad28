import { type ChainLink, GENESIS_HASH, linkHash, verifyChain } from '@spl/audit-chain';
import type { Actor } from '../auth/principal.js';
import type { Sql } from '../store/database.js';

/** One thing that changed, as the audit trail records it. Never a secret or a restricted value. */
export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

/** The hashed form of a record: exactly these fields, canonical JSON (RFC 8785). */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: Actor;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

export interface DbAuditRow {
  seq: number;
  at: Date;
  actor: Actor;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  prev_hash: string;
  hash: string;
}

/**
 * Serialises audit appends across every registry instance until the transaction ends. The
 * second key is the schema's: the chain is the schema's `audit_log`, so registries on other
 * schemas of the same database (tests, a second hub) have chains and locks of their own and
 * do not wait on each other's long transactions (a declarative apply holds it to its commit).
 */
const AUDIT_LOCK = 7_301_002;

/**
 * Appends one record to the chain inside the caller's transaction. The advisory lock
 * is held until commit, so concurrent mutations queue here and the chain stays linear.
 */
export async function appendAudit(tx: Sql, actor: Actor, entry: AuditEntry, now: Date): Promise<number> {
  await tx.query('SELECT pg_advisory_xact_lock($1, coalesce(hashtext(current_schema()), 0))', [AUDIT_LOCK]);
  const [head] = await tx.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const record: AuditRecord = {
    seq: (head?.seq ?? 0) + 1,
    at: now.toISOString(),
    actor,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    before: entry.before ?? null,
    after: entry.after ?? null,
  };
  const prevHash = head?.hash ?? GENESIS_HASH;
  await tx.query(
    `INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id, before, after, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      record.seq,
      record.at,
      JSON.stringify(actor),
      record.action,
      record.entityType,
      record.entityId,
      JSON.stringify(record.before),
      JSON.stringify(record.after),
      prevHash,
      linkHash(prevHash, record),
    ],
  );
  return record.seq;
}

export function recordOfRow(row: DbAuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: row.before,
    after: row.after,
  };
}

export type AuditVerdict =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; firstBrokenSeq: number; reason: string };

/** Re-computes the whole chain page by page and names the first record that does not hold. */
export async function verifyAuditTrail(db: Sql, pageSize = 2000): Promise<AuditVerdict> {
  let startHash = GENESIS_HASH;
  let after = 0;
  let total = 0;
  let expectedSeq = 1;
  for (;;) {
    const rows = await db.query<DbAuditRow>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [
      after,
      pageSize,
    ]);
    if (rows.length === 0) return { ok: true, records: total, head: startHash };
    const links: ChainLink<AuditRecord>[] = [];
    for (const row of rows) {
      // A deleted record leaves a gap in seq even when the hashes were re-linked.
      if (Number(row.seq) !== expectedSeq)
        return { ok: false, records: total, firstBrokenSeq: expectedSeq, reason: 'record missing' };
      expectedSeq++;
      links.push({ seq: Number(row.seq), record: recordOfRow(row), prevHash: row.prev_hash, hash: row.hash });
    }
    const verdict = verifyChain(links, startHash);
    if (!verdict.ok)
      return {
        ok: false,
        records: total + verdict.count,
        firstBrokenSeq: verdict.brokenAt,
        reason: verdict.reason === 'hash-mismatch' ? 'record altered' : 'chain relinked',
      };
    total += verdict.count;
    startHash = verdict.head;
    after = Number(rows[rows.length - 1]!.seq);
  }
}
