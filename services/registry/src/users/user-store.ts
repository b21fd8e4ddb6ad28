import { randomUUID } from 'node:crypto';
import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import {
  createClient,
  generateClientId,
  type SecretJsonRow,
  secretsJsonSql,
  secretsOfJson,
} from '../oauth/clients.js';
import { getOrganisationRow } from '../organisations/organisation-store.js';
import type { User, UserInput } from '../routes/users/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

export interface DbUserRow {
  id: string;
  org_id: string;
  username: string;
  name: string;
  email: string | null;
  roles: User['roles'];
  disabled: boolean;
  created_at: Date;
  erased_at: Date | null;
}

const USER_SELECT = `
  SELECT u.*, o.slug AS org,
         coalesce((SELECT array_agg(c.client_id ORDER BY c.client_id) FROM oauth_clients c WHERE c.user_id = u.id), '{}') AS client_ids,
         ${secretsJsonSql('c.user_id = u.id')} AS secrets
    FROM users u JOIN organisations o ON o.id = u.org_id`;

type UserRowWithOrg = DbUserRow & { org: string; client_ids: string[]; secrets: SecretJsonRow[] };

function userOfRow(row: UserRowWithOrg): User {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    ...(row.email ? { email: row.email } : {}),
    org: row.org,
    roles: row.roles,
    disabled: row.disabled,
    clientIds: row.client_ids,
    secrets: secretsOfJson(row.secrets),
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.erased_at ? { erasedAt: new Date(row.erased_at).toISOString() } : {}),
  };
}

export async function listUsers(db: Sql): Promise<User[]> {
  return (await db.query<UserRowWithOrg>(`${USER_SELECT} ORDER BY u.username`)).map(userOfRow);
}

export async function findUserById(db: Sql, id: string): Promise<User | undefined> {
  const [row] = await db.query<UserRowWithOrg>(`${USER_SELECT} WHERE u.id = $1`, [id]);
  return row ? userOfRow(row) : undefined;
}

export async function findUserByUsername(db: Sql, username: string): Promise<User | undefined> {
  const [row] = await db.query<UserRowWithOrg>(`${USER_SELECT} WHERE u.username = $1`, [username]);
  return row ? userOfRow(row) : undefined;
}

/** A named person and their personal client; the secret is returned once. */
export async function createUser(
  tx: Sql,
  audit: RecordAudit,
  input: UserInput,
  now: Date,
  secretMaxAgeDays: number,
  secret?: string,
): Promise<{ user: User; credentials: { clientId: string; clientSecret: string } }> {
  const org = await getOrganisationRow(tx, input.org);
  const id = randomUUID();
  try {
    await tx.query(
      `INSERT INTO users (id, org_id, username, name, email, roles, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [id, org.id, input.username, input.name, input.email ?? null, input.roles, now.toISOString()],
    );
    const credentials = await createClient(tx, {
      clientId: input.clientId ?? generateClientId(input.username),
      kind: 'personal',
      orgId: org.id,
      userId: id,
      roles: input.roles,
      ...(secret ? { secret } : {}),
      now,
      secretMaxAgeDays,
    });
    const user = (await findUserById(tx, id))!;
    await audit({
      action: 'user.create',
      entityType: 'user',
      entityId: input.username,
      after: {
        username: user.username,
        name: user.name,
        email: user.email ?? null,
        org: user.org,
        roles: user.roles,
        clientId: credentials.clientId,
      },
    });
    return { user, credentials };
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT(`user ${input.username} or client ${input.clientId ?? ''} already exists`);
    throw err;
  }
}

/** Changes a person's name, e-mail or roles; writes and records nothing when nothing differs. */
export async function updateUser(
  tx: Sql,
  audit: RecordAudit,
  username: string,
  patch: { name?: string; email?: string; roles?: User['roles'] },
  now: Date,
): Promise<{ user: User; changed: boolean }> {
  const current = await findUserByUsername(tx, username);
  if (!current) throw errors.SPL_NOT_FOUND(`no user ${username}`);
  const before = { name: current.name, email: current.email ?? null, roles: current.roles };
  const after = {
    name: patch.name ?? before.name,
    email: patch.email ?? before.email,
    roles: patch.roles ?? before.roles,
  };
  if (JSON.stringify(before) === JSON.stringify(after)) return { user: current, changed: false };
  await tx.query('UPDATE users SET name = $2, email = $3, roles = $4, updated_at = $5 WHERE id = $1', [
    current.id,
    after.name,
    after.email,
    after.roles,
    now.toISOString(),
  ]);
  // The personal client carries the same roles (tokens take them from the person).
  await tx.query("UPDATE oauth_clients SET roles = $2 WHERE user_id = $1 AND kind = 'personal'", [
    current.id,
    after.roles,
  ]);
  await audit({ action: 'user.update', entityType: 'user', entityId: username, before, after });
  return { user: (await findUserById(tx, current.id))!, changed: true };
}
