import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal, Role } from '../auth/principal.js';
import type { Sql } from '../store/database.js';
import { generateClientSecret, hashSecret, verifySecret } from './secret-hash.js';

export type ClientKind = 'application' | 'personal' | 'dataplane' | 'bootstrap';

export interface DbOauthClientRow {
  client_id: string;
  kind: ClientKind;
  org_id: string;
  application_id: string | null;
  user_id: string | null;
  roles: Role[];
  disabled: boolean;
  created_at: Date;
}

export function generateClientId(stem: string): string {
  return `${stem.slice(0, 40)}-${randomBytes(4).toString('hex')}`;
}

/** Creates a client with one secret; returns the secret in plaintext, the only time it exists. */
export async function createClient(
  tx: Sql,
  input: {
    clientId: string;
    kind: ClientKind;
    orgId: string;
    applicationId?: string;
    userId?: string;
    roles: Role[];
    secret?: string;
  },
): Promise<{ clientId: string; clientSecret: string }> {
  const secret = input.secret ?? generateClientSecret();
  await tx.query(
    `INSERT INTO oauth_clients (client_id, kind, org_id, application_id, user_id, roles)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.clientId, input.kind, input.orgId, input.applicationId ?? null, input.userId ?? null, input.roles],
  );
  await tx.query('INSERT INTO client_secrets (id, client_id, hash) VALUES ($1, $2, $3)', [
    randomUUID(),
    input.clientId,
    await hashSecret(secret),
  ]);
  return { clientId: input.clientId, clientSecret: secret };
}

/**
 * Issues a new secret. Secrets valid until now get an expiry `overlapSeconds` away, so
 * the application can roll its deployments without an outage; 0 ends them at once.
 */
export async function rotateClientSecret(
  tx: Sql,
  clientId: string,
  overlapSeconds: number,
  now: Date,
  secret?: string,
): Promise<{ clientSecret: string; previousExpireAt: string }> {
  const expireAt = new Date(now.getTime() + overlapSeconds * 1000);
  await tx.query(
    `UPDATE client_secrets SET expires_at = $2
      WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)`,
    [clientId, expireAt.toISOString()],
  );
  const clientSecret = secret ?? generateClientSecret();
  await tx.query('INSERT INTO client_secrets (id, client_id, hash) VALUES ($1, $2, $3)', [
    randomUUID(),
    clientId,
    await hashSecret(clientSecret),
  ]);
  return { clientSecret, previousExpireAt: expireAt.toISOString() };
}

/** Whether `secret` is one of the client's currently valid secrets. */
export async function isCurrentSecret(
  db: Sql,
  clientId: string,
  secret: string,
  now: Date,
): Promise<boolean> {
  const hashes = await db.query<{ hash: string }>(
    `SELECT hash FROM client_secrets WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)
      ORDER BY created_at DESC`,
    [clientId, now.toISOString()],
  );
  for (const { hash } of hashes) if (await verifySecret(secret, hash)) return true;
  return false;
}

/**
 * Checks client credentials; returns who the client acts as, or null. Roles come from the
 * person (personal clients) or the application at this moment, so a role change applies
 * to the next token.
 */
export async function authenticateClient(
  db: Sql,
  clientId: string,
  secret: string,
  now: Date,
): Promise<Principal | null> {
  const [row] = await db.query<{
    kind: ClientKind;
    roles: Role[];
    disabled: boolean;
    org: string;
    user_id: string | null;
    user_roles: Role[] | null;
    user_disabled: boolean | null;
    app_roles: Role[] | null;
  }>(
    `SELECT c.kind, c.roles, c.disabled, o.slug AS org, c.user_id,
            u.roles AS user_roles, u.disabled AS user_disabled, a.roles AS app_roles
       FROM oauth_clients c
       JOIN organisations o ON o.id = c.org_id
       LEFT JOIN users u ON u.id = c.user_id
       LEFT JOIN applications a ON a.id = c.application_id
      WHERE c.client_id = $1`,
    [clientId],
  );
  if (!row || row.disabled || row.user_disabled) return null;
  if (!(await isCurrentSecret(db, clientId, secret, now))) return null;
  const roles =
    row.kind === 'personal'
      ? (row.user_roles ?? [])
      : row.kind === 'application'
        ? (row.app_roles ?? [])
        : row.roles;
  return { clientId, org: row.org, roles, ...(row.user_id ? { userId: row.user_id } : {}) };
}
