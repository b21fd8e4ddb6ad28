import type { Actor } from '../auth/principal.js';
import type { Database, Sql } from '../store/database.js';
import { type AuditEntry, appendAudit } from './audit-trail.js';

export type RecordAudit = (entry: AuditEntry) => Promise<void>;

/**
 * Runs a change in one transaction with its audit records: either the change and every
 * record commit together, or neither does. `onCommitted` runs once after a commit that
 * recorded something (the snapshot listens there); a no-op change records nothing.
 */
export type Mutate = <T>(actor: Actor, change: (tx: Sql, audit: RecordAudit) => Promise<T>) => Promise<T>;

export function createMutator(db: Database, clock: () => Date, onCommitted: () => void): Mutate {
  return async (actor, change) => {
    let recorded = 0;
    const out = await db.transaction(async (tx) => {
      const audit: RecordAudit = async (entry) => {
        await appendAudit(tx, actor, entry, clock());
        recorded++;
      };
      return change(tx, audit);
    });
    if (recorded > 0) onCommitted();
    return out;
  };
}
