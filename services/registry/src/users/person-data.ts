import { type DbAuditRow, recordOfRow } from '../audit/audit-trail.js';
import type { RecordAudit } from '../audit/mutations.js';
import type { Role } from '../auth/principal.js';
import { errors } from '../errors.js';
import type { ClientKind } from '../oauth/clients.js';
import type { PersonalDataExport, User } from '../routes/users/schemas.js';
import type { Sql } from '../store/database.js';
import { findUserById } from './user-store.js';

/**
 * Everything the hub stores about a person (BKS 59(10), export on request): the profile,
 * the organisation, the personal clients, each secret's metadata (never a hash), and the
 * audit records where the person acted or that are about them or their clients.
 */
export async function exportPersonData(db: Sql, userId: string, now: Date): Promise<PersonalDataExport> {
  const person = await findUserById(db, userId);
  if (!person) throw errors.SPL_NOT_FOUND(`no person ${userId}`);
  const [organisation] = await db.query<{ slug: string; name: string; kind: string }>(
    'SELECT o.slug, o.name, o.kind FROM organisations o JOIN users u ON u.org_id = o.id WHERE u.id = $1',
    [userId],
  );
  const clients = await db.query<{
    client_id: string;
    kind: ClientKind;
    roles: Role[];
    disabled: boolean;
    created_at: Date;
  }>(
    'SELECT client_id, kind, roles, disabled, created_at FROM oauth_clients WHERE user_id = $1 ORDER BY client_id',
    [userId],
  );
  const clientIds = clients.map((c) => c.client_id);
  const secrets = await db.query<{ client_id: string; created_at: Date; expires_at: Date | null }>(
    `SELECT client_id, created_at, expires_at FROM client_secrets WHERE client_id = ANY($1)
      ORDER BY created_at DESC, id`,
    [clientIds],
  );
  const audit = await db.query<DbAuditRow>(
    `SELECT * FROM audit_log
      WHERE actor->>'userId' = $1
         OR (entity_type = 'user' AND entity_id = $2)
         OR (entity_type = 'client' AND entity_id = ANY($3))
      ORDER BY seq`,
    [userId, person.username, clientIds],
  );
  return {
    exportedAt: now.toISOString(),
    person,
    organisation: organisation!,
    clients: clients.map((c) => ({
      clientId: c.client_id,
      kind: c.kind,
      roles: c.roles,
      disabled: c.disabled,
      createdAt: new Date(c.created_at).toISOString(),
    })),
    secrets: secrets.map((s) => ({
      clientId: s.client_id,
      createdAt: new Date(s.created_at).toISOString(),
      expiresAt: s.expires_at ? new Date(s.expires_at).toISOString() : null,
    })),
    audit: audit.map((row) => ({ ...recordOfRow(row), hash: row.hash })),
  };
}

/** The username an erased person keeps: derived from the id, so it says nothing about them. */
export function pseudonymOf(userId: string): string {
  return `erased-${userId.replaceAll('-', '').slice(0, 12).toLowerCase()}`;
}

/**
 * Erases a person on request (BKS 59(10)): name, e-mail, username and personal client ids are
 * replaced by a pseudonym, the person and their personal clients are disabled, the clients'
 * secrets are deleted and their session ended, so neither a token nor a secret of theirs works again.
 * The row stays: approvals, consents and the audit trail refer to the person's id. Audit
 * records are never rewritten (the chain's integrity is evidence, BKS 59(9)(d)); the
 * erasure is recorded as `user.erase`, naming only the id and the pseudonym. Erasing an
 * erased person is a conflict.
 */
export async function erasePerson(tx: Sql, audit: RecordAudit, userId: string, now: Date): Promise<User> {
  const [row] = await tx.query<{ id: string; erased_at: Date | null }>(
    'SELECT id, erased_at FROM users WHERE id = $1 FOR UPDATE',
    [userId],
  );
  if (!row) throw errors.SPL_NOT_FOUND(`no person ${userId}`);
  if (row.erased_at)
    throw errors.SPL_CONFLICT(`person ${userId} was erased at ${new Date(row.erased_at).toISOString()}`);
  const pseudonym = pseudonymOf(userId);
  await tx.query(
    `UPDATE users SET username = $2, name = $3, email = NULL, disabled = true, erased_at = $4, updated_at = $4
      WHERE id = $1`,
    [userId, pseudonym, 'erased person', now.toISOString()],
  );
  // A generated client id starts with the username, so it is renamed too (with the places
  // that name it outside the audit trail); its secrets go first (they reference it).
  const clients = await tx.query<{ client_id: string }>(
    'SELECT client_id FROM oauth_clients WHERE user_id = $1 ORDER BY created_at, client_id',
    [userId],
  );
  await tx.query('DELETE FROM client_secrets WHERE client_id = ANY($1)', [clients.map((c) => c.client_id)]);
  const clientIds: string[] = [];
  for (const [i, { client_id: old }] of clients.entries()) {
    const renamed = i === 0 ? pseudonym : `${pseudonym}-${i + 1}`;
    await tx.query(
      'UPDATE oauth_clients SET client_id = $2, disabled = true, session_jti = NULL WHERE client_id = $1',
      [old, renamed],
    );
    for (const table of ['version_transitions', 'topic_transitions'])
      await tx.query(`UPDATE ${table} SET client_id = $2 WHERE client_id = $1`, [old, renamed]);
    clientIds.push(renamed);
  }
  await audit({
    action: 'user.erase',
    entityType: 'user',
    entityId: pseudonym,
    after: { id: userId, username: pseudonym, clientIds, erasedAt: now.toISOString() },
  });
  return (await findUserById(tx, userId))!;
}
