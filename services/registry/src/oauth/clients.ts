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

/**
 * Kinds whose secrets age out after `SPL_SECRET_MAX_AGE_DAYS` (BKS 59(4)): people and
 * consumer applications. The data planes' clients and the bootstrap operator are exempt: the
 * first are machine credentials rolled with a deployment, the second is the break-glass
 * client whose secret lives in the environment, and an expiry would lock the hub out.
 */
export const AGEING_KINDS: ReadonlySet<ClientKind> = new Set(['personal', 'application']);

/** How long before its expiry a secret counts as expiring (metric and alert), days. */
export const SECRET_EXPIRY_WARNING_DAYS = 14;

/** When a secret issued now stops working; null when it never does (maxAgeDays 0, exempt kinds). */
export function secretExpiryOf(kind: ClientKind, now: Date, maxAgeDays: number): Date | null {
  if (maxAgeDays === 0 || !AGEING_KINDS.has(kind)) return null;
  return new Date(now.getTime() + maxAgeDays * 86_400_000);
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
    now: Date;
    /** SPL_SECRET_MAX_AGE_DAYS: the secret's expiry, for the kinds that age. */
    secretMaxAgeDays: number;
  },
): Promise<{ clientId: string; clientSecret: string }> {
  const secret = input.secret ?? generateClientSecret();
  await tx.query(
    `INSERT INTO oauth_clients (client_id, kind, org_id, application_id, user_id, roles)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.clientId, input.kind, input.orgId, input.applicationId ?? null, input.userId ?? null, input.roles],
  );
  await insertSecret(
    tx,
    input.clientId,
    secret,
    input.now,
    secretExpiryOf(input.kind, input.now, input.secretMaxAgeDays),
  );
  return { clientId: input.clientId, clientSecret: secret };
}

async function insertSecret(
  tx: Sql,
  clientId: string,
  secret: string,
  now: Date,
  expiresAt: Date | null,
): Promise<void> {
  await tx.query(
    'INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [randomUUID(), clientId, await hashSecret(secret), now.toISOString(), expiresAt?.toISOString() ?? null],
  );
}

/**
 * Issues a new secret. Secrets valid until now get an expiry `overlapSeconds` away, so
 * the application can roll its deployments without an outage; 0 ends them at once. An
 * expiry is only ever brought forward. The new secret's age starts now: it expires
 * `secretMaxAgeDays` from now (for the kinds that age).
 */
export async function rotateClientSecret(
  tx: Sql,
  clientId: string,
  options: { overlapSeconds: number; now: Date; secretMaxAgeDays: number; secret?: string },
): Promise<{ clientSecret: string; previousExpireAt: string; expiresAt: string | null }> {
  const { now } = options;
  const expireAt = new Date(now.getTime() + options.overlapSeconds * 1000);
  const [client] = await tx.query<{ kind: ClientKind }>(
    'SELECT kind FROM oauth_clients WHERE client_id = $1',
    [clientId],
  );
  await tx.query(
    `UPDATE client_secrets SET expires_at = $2
      WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)`,
    [clientId, expireAt.toISOString()],
  );
  const clientSecret = options.secret ?? generateClientSecret();
  const expiresAt = client ? secretExpiryOf(client.kind, now, options.secretMaxAgeDays) : null;
  await insertSecret(tx, clientId, clientSecret, now, expiresAt);
  return {
    clientSecret,
    previousExpireAt: expireAt.toISOString(),
    expiresAt: expiresAt?.toISOString() ?? null,
  };
}

/** A client's secret as people and auditors see it: when it was issued and when it stops working. */
export interface ClientSecretInfo {
  clientId: string;
  createdAt: string;
  /** null: it does not expire (an exempt kind, or SPL_SECRET_MAX_AGE_DAYS=0 when it was issued). */
  expiresAt: string | null;
}

/**
 * SQL of the secrets that work now of the clients matched by `clientFilter` (a condition on
 * `c`, the oauth_clients row), as a JSON array of { clientId, createdAt, expiresAt }: for the
 * list queries of people and applications. Never a hash.
 */
export function secretsJsonSql(clientFilter: string): string {
  return `coalesce((SELECT json_agg(json_build_object('clientId', s.client_id, 'createdAt', s.created_at,
                                                      'expiresAt', s.expires_at)
                                    ORDER BY s.created_at DESC, s.id)
                      FROM client_secrets s JOIN oauth_clients c ON c.client_id = s.client_id
                     WHERE ${clientFilter} AND (s.expires_at IS NULL OR s.expires_at > now())), '[]')`;
}

/** The rows `secretsJsonSql` gives, as the API shows them. */
export type SecretJsonRow = { clientId: string; createdAt: string; expiresAt: string | null };

export function secretsOfJson(rows: SecretJsonRow[]): ClientSecretInfo[] {
  return rows.map((r) => ({
    clientId: r.clientId,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: r.expiresAt ? new Date(r.expiresAt).toISOString() : null,
  }));
}

/** The secrets that work now (or later) of the given clients, newest first; never a hash. */
export async function listClientSecrets(
  db: Sql,
  clientIds: string[],
  now: Date,
): Promise<ClientSecretInfo[]> {
  if (clientIds.length === 0) return [];
  const rows = await db.query<{ client_id: string; created_at: Date; expires_at: Date | null }>(
    `SELECT client_id, created_at, expires_at FROM client_secrets
      WHERE client_id = ANY($1) AND (expires_at IS NULL OR expires_at > $2)
      ORDER BY created_at DESC, id`,
    [clientIds, now.toISOString()],
  );
  return rows.map((r) => ({
    clientId: r.client_id,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
  }));
}

/**
 * Gives every secret of an ageing kind that has no expiry one `maxAgeDays` from now: the
 * secrets issued before the maximum age existed (or while it was 0) start their age at this
 * start-up rather than at their creation, so turning the rule on never locks a hub out at
 * once. Returns how many secrets it touched.
 */
export async function applySecretMaxAge(tx: Sql, now: Date, maxAgeDays: number): Promise<number> {
  if (maxAgeDays === 0) return 0;
  const rows = await tx.query<{ id: string }>(
    `UPDATE client_secrets s SET expires_at = $1
       FROM oauth_clients c
      WHERE c.client_id = s.client_id AND c.kind = ANY($2) AND s.expires_at IS NULL
      RETURNING s.id`,
    [new Date(now.getTime() + maxAgeDays * 86_400_000).toISOString(), [...AGEING_KINDS]],
  );
  return rows.length;
}

/** Whether the client has any secret that works now (no hashing: for the log of a failure). */
export async function hasWorkingSecret(db: Sql, clientId: string, now: Date): Promise<boolean> {
  const rows = await db.query<{ one: number }>(
    'SELECT 1 AS one FROM client_secrets WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) LIMIT 1',
    [clientId, now.toISOString()],
  );
  return rows.length > 0;
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
