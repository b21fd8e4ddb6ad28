import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import type { Organisation, OrganisationInput, OrganisationPatch } from '../routes/organisations/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

export interface DbOrganisationRow {
  id: string;
  slug: string;
  name: string;
  kind: Organisation['kind'];
  contacts: Organisation['contacts'];
  created_at: Date;
  updated_at: Date;
}

export function organisationOfRow(row: DbOrganisationRow): Organisation {
  return {
    slug: row.slug,
    name: row.name,
    kind: row.kind,
    contacts: row.contacts,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited form: what a reader needs to see changed, without timestamps. */
function audited(o: Organisation) {
  return { slug: o.slug, name: o.name, kind: o.kind, contacts: o.contacts };
}

export async function listOrganisations(db: Sql): Promise<Organisation[]> {
  const rows = await db.query<DbOrganisationRow>('SELECT * FROM organisations ORDER BY slug');
  return rows.map(organisationOfRow);
}

export async function findOrganisationRow(db: Sql, slug: string): Promise<DbOrganisationRow | undefined> {
  const [row] = await db.query<DbOrganisationRow>('SELECT * FROM organisations WHERE slug = $1', [slug]);
  return row;
}

export async function getOrganisationRow(db: Sql, slug: string): Promise<DbOrganisationRow> {
  const row = await findOrganisationRow(db, slug);
  if (!row) throw errors.SPL_NOT_FOUND(`no organisation ${slug}`);
  return row;
}

export async function createOrganisation(
  tx: Sql,
  audit: RecordAudit,
  input: OrganisationInput,
  now: Date,
): Promise<Organisation> {
  try {
    const [row] = await tx.query<DbOrganisationRow>(
      `INSERT INTO organisations (id, slug, name, kind, contacts, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *`,
      [
        randomUUID(),
        input.slug,
        input.name,
        input.kind,
        JSON.stringify(input.contacts ?? []),
        now.toISOString(),
      ],
    );
    const created = organisationOfRow(row!);
    await audit({
      action: 'organisation.create',
      entityType: 'organisation',
      entityId: input.slug,
      after: audited(created),
    });
    return created;
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.SPL_CONFLICT(`organisation ${input.slug} already exists`);
    throw err;
  }
}

/** Applies the fields given; records nothing and writes nothing when they change nothing. */
export async function updateOrganisation(
  tx: Sql,
  audit: RecordAudit,
  slug: string,
  patch: OrganisationPatch,
  now: Date,
): Promise<Organisation> {
  const current = await getOrganisationRow(tx, slug);
  const before = organisationOfRow(current);
  const next = {
    ...audited(before),
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  };
  // jsonb keeps its own key order, so compare canonically (RFC 8785).
  if (canonicalJson(next) === canonicalJson(audited(before))) return before;
  const [row] = await tx.query<DbOrganisationRow>(
    'UPDATE organisations SET name = $2, kind = $3, contacts = $4, updated_at = $5 WHERE id = $1 RETURNING *',
    [current.id, next.name, next.kind, JSON.stringify(next.contacts), now.toISOString()],
  );
  const after = organisationOfRow(row!);
  await audit({
    action: 'organisation.update',
    entityType: 'organisation',
    entityId: slug,
    before: audited(before),
    after: audited(after),
  });
  return after;
}
