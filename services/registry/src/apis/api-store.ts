import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg, canReadAll } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import { errors } from '../errors.js';
import { getOrganisationRow } from '../organisations/organisation-store.js';
import type {
  Api,
  ApiInput,
  ApiPatch,
  CatalogPage,
  CatalogQuery,
  Classification,
  VersionState,
  VersionSummary,
} from '../routes/apis/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

export interface DbApiRow {
  id: string;
  org_id: string;
  slug: string;
  name: string;
  description: string;
  tags: string[];
  classification: Classification;
  sla_target: number;
  contact: Api['contact'] | null;
  satu_data: Api['satuData'] | null;
  created_at: Date;
  updated_at: Date;
}

/** An API row with its owner's slug, as every read joins it. */
export interface DbApiWithOrgRow extends DbApiRow {
  org_slug: string;
}

/** Versions anyone who sees the API may see; other states only the owner and the readers-of-all. */
export const PUBLIC_VERSION_STATES: readonly VersionState[] = ['published', 'deprecated'];

export const DEFAULT_SLA_TARGET = 95;

export function apiOfRow(row: DbApiWithOrgRow, versions: VersionSummary[]): Api {
  return {
    org: row.org_slug,
    slug: row.slug,
    name: row.name,
    description: row.description,
    tags: row.tags,
    classification: row.classification,
    slaTarget: Number(row.sla_target),
    ...(row.contact ? { contact: row.contact } : {}),
    ...(row.satu_data ? { satuData: row.satu_data } : {}),
    versions,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited and compared form: the definition, without timestamps or versions. */
function definitionOf(api: Api) {
  return {
    org: api.org,
    slug: api.slug,
    name: api.name,
    description: api.description,
    tags: api.tags,
    classification: api.classification,
    slaTarget: api.slaTarget,
    contact: api.contact ?? null,
    satuData: api.satuData ?? null,
  };
}

/** Whether the caller sees everything of this organisation's APIs (drafts, dikecualikan). */
export function isOwnerOrReader(principal: Principal, orgSlug: string): boolean {
  return principal.org === orgSlug || canReadAll(principal);
}

export function canSeeVersionState(principal: Principal, orgSlug: string, state: VersionState): boolean {
  return PUBLIC_VERSION_STATES.includes(state) || isOwnerOrReader(principal, orgSlug);
}

/**
 * SQL condition: the API `a` (owner `o`) is visible to the caller. A `dikecualikan` API
 * exists only for its owner, operators, auditors, reviewers and organisations whose
 * application holds an approved subscription to one of its versions. $1 = caller's org
 * slug, $2 = whether the caller reads everything.
 */
const API_VISIBLE = `(a.classification <> 'dikecualikan' OR $2::boolean OR o.slug = $1 OR EXISTS (
  SELECT 1 FROM subscriptions s
    JOIN applications ap ON ap.id = s.application_id
    JOIN organisations apo ON apo.id = ap.org_id
    JOIN api_versions sv ON sv.id = s.version_id
  WHERE sv.api_id = a.id AND s.state = 'approved' AND apo.slug = $1))`;

const VERSION_VISIBLE = `(v.state IN ('published', 'deprecated') OR $2::boolean OR o.slug = $1)`;

async function versionSummaries(
  db: Sql,
  principal: Principal,
  rows: DbApiWithOrgRow[],
): Promise<Map<string, VersionSummary[]>> {
  const out = new Map<string, VersionSummary[]>(rows.map((r) => [r.id, []]));
  if (rows.length === 0) return out;
  const versions = await db.query<{ api_id: string; version: string; state: VersionState }>(
    'SELECT api_id, version, state FROM api_versions WHERE api_id = ANY($1) ORDER BY created_at, version',
    [rows.map((r) => r.id)],
  );
  const owners = new Map(rows.map((r) => [r.id, r.org_slug]));
  for (const v of versions)
    if (canSeeVersionState(principal, owners.get(v.api_id)!, v.state))
      out.get(v.api_id)!.push({ version: v.version, state: v.state });
  return out;
}

export async function findApiRow(db: Sql, org: string, api: string): Promise<DbApiWithOrgRow | undefined> {
  const [row] = await db.query<DbApiWithOrgRow>(
    `SELECT a.*, o.slug AS org_slug FROM apis a JOIN organisations o ON o.id = a.org_id
     WHERE o.slug = $1 AND a.slug = $2`,
    [org, api],
  );
  return row;
}

/** The API as the caller may see it: a hidden `dikecualikan` API does not exist for them. */
export async function getVisibleApiRow(
  db: Sql,
  principal: Principal,
  org: string,
  api: string,
): Promise<DbApiWithOrgRow> {
  const [row] = await db.query<DbApiWithOrgRow>(
    `SELECT a.*, o.slug AS org_slug FROM apis a JOIN organisations o ON o.id = a.org_id
     WHERE o.slug = $3 AND a.slug = $4 AND ${API_VISIBLE}`,
    [principal.org, canReadAll(principal), org, api],
  );
  if (!row) throw errors.SPL_NOT_FOUND(`no API ${org}/${api}`);
  return row;
}

export async function getVisibleApi(db: Sql, principal: Principal, org: string, api: string): Promise<Api> {
  const row = await getVisibleApiRow(db, principal, org, api);
  const versions = await versionSummaries(db, principal, [row]);
  return apiOfRow(row, versions.get(row.id)!);
}

/** The service directory (BBU Lamp. II.G): text, tag, organisation, classification and state filters. */
export async function searchCatalog(
  db: Sql,
  principal: Principal,
  query: CatalogQuery,
): Promise<CatalogPage> {
  const params: unknown[] = [principal.org, canReadAll(principal)];
  const where = [API_VISIBLE];
  if (query.q) {
    params.push(`%${query.q.replace(/[\\%_]/g, '\\$&')}%`);
    const p = `$${params.length}`;
    where.push(`(a.name ILIKE ${p} OR a.description ILIKE ${p} OR a.slug ILIKE ${p})`);
  }
  if (query.tag) {
    params.push(query.tag);
    where.push(`$${params.length} = ANY(a.tags)`);
  }
  if (query.org) {
    params.push(query.org);
    where.push(`o.slug = $${params.length}`);
  }
  if (query.classification) {
    params.push(query.classification);
    where.push(`a.classification = $${params.length}`);
  }
  if (query.state) {
    params.push(query.state);
    where.push(
      `EXISTS (SELECT 1 FROM api_versions v WHERE v.api_id = a.id AND v.state = $${params.length} AND ${VERSION_VISIBLE})`,
    );
  }
  const from = `FROM apis a JOIN organisations o ON o.id = a.org_id WHERE ${where.join(' AND ')}`;
  const limit = query.limit ?? 50;
  const offset = query.offset ?? 0;
  const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n ${from}`, params);
  const rows = await db.query<DbApiWithOrgRow>(
    `SELECT a.*, o.slug AS org_slug ${from} ORDER BY o.slug, a.slug LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, limit, offset],
  );
  const versions = await versionSummaries(db, principal, rows);
  return {
    items: rows.map((r) => apiOfRow(r, versions.get(r.id)!)),
    total: Number(count?.n ?? 0),
    limit,
    offset,
  };
}

export async function createApi(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  input: ApiInput,
  now: Date,
): Promise<Api> {
  const owner = await getOrganisationRow(tx, org);
  let row: DbApiRow | undefined;
  try {
    [row] = await tx.query<DbApiRow>(
      `INSERT INTO apis (id, org_id, slug, name, description, tags, classification, sla_target, contact, satu_data,
                         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING *`,
      [
        randomUUID(),
        owner.id,
        input.slug,
        input.name,
        input.description ?? '',
        input.tags ?? [],
        input.classification,
        input.slaTarget ?? DEFAULT_SLA_TARGET,
        input.contact ? JSON.stringify(input.contact) : null,
        input.satuData ? JSON.stringify(input.satuData) : null,
        now.toISOString(),
      ],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.SPL_CONFLICT(`API ${org}/${input.slug} already exists`);
    throw err;
  }
  const created = apiOfRow({ ...row!, org_slug: org }, []);
  await audit({
    action: 'api.create',
    entityType: 'api',
    entityId: `${org}/${input.slug}`,
    after: definitionOf(created),
  });
  return created;
}

type ApiDefinition = ReturnType<typeof definitionOf>;

/** Writes `next` over the current row unless they are equal; records before and after. */
async function writeDefinition(
  tx: Sql,
  audit: RecordAudit,
  current: DbApiWithOrgRow,
  next: ApiDefinition,
  now: Date,
): Promise<{ api: Api; changed: boolean }> {
  const versions = await tx.query<VersionSummary>(
    'SELECT version, state FROM api_versions WHERE api_id = $1 ORDER BY created_at, version',
    [current.id],
  );
  const before = definitionOf(apiOfRow(current, []));
  // Canonical JSON: jsonb reorders object keys, so plain JSON.stringify would see changes that are not.
  if (canonicalJson(next) === canonicalJson(before))
    return { api: apiOfRow(current, versions), changed: false };
  const [row] = await tx.query<DbApiRow>(
    `UPDATE apis SET name = $2, description = $3, tags = $4, classification = $5, sla_target = $6, contact = $7,
                     satu_data = $8, updated_at = $9
     WHERE id = $1 RETURNING *`,
    [
      current.id,
      next.name,
      next.description,
      next.tags,
      next.classification,
      next.slaTarget,
      next.contact ? JSON.stringify(next.contact) : null,
      next.satuData ? JSON.stringify(next.satuData) : null,
      now.toISOString(),
    ],
  );
  const after = apiOfRow({ ...row!, org_slug: current.org_slug }, versions);
  await audit({
    action: 'api.update',
    entityType: 'api',
    entityId: `${current.org_slug}/${current.slug}`,
    before,
    after: definitionOf(after),
  });
  return { api: after, changed: true };
}

/** Applies the fields given; writes nothing and records nothing when they change nothing. */
export async function updateApi(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  api: string,
  patch: ApiPatch,
  now: Date,
): Promise<{ api: Api; changed: boolean }> {
  const current = await findApiRow(tx, org, api);
  if (!current) throw errors.SPL_NOT_FOUND(`no API ${org}/${api}`);
  const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return writeDefinition(tx, audit, current, { ...definitionOf(apiOfRow(current, [])), ...given }, now);
}

/** What `spl apply` gives for one API: the REST input plus its owner. */
export interface ApiApplyInput extends ApiInput {
  org: string;
}

/**
 * Creates the API or brings it to the given definition, idempotently: an identical
 * definition writes nothing and records nothing. Fields the input leaves out take their
 * defaults (or are removed), so the file is the whole truth about the API. Checks that the
 * caller acts for the owning organisation.
 */
export async function applyApi(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: ApiApplyInput,
  now: Date,
): Promise<'created' | 'updated' | 'unchanged'> {
  assertActsForOrg(principal, input.org, ['publisher']);
  const { org, ...api } = input;
  const existing = await findApiRow(tx, org, api.slug);
  if (!existing) {
    await createApi(tx, audit, org, api, now);
    return 'created';
  }
  const { changed } = await writeDefinition(
    tx,
    audit,
    existing,
    {
      org,
      slug: api.slug,
      name: api.name,
      description: api.description ?? '',
      tags: api.tags ?? [],
      classification: api.classification,
      slaTarget: api.slaTarget ?? DEFAULT_SLA_TARGET,
      contact: api.contact ?? null,
      satuData: api.satuData ?? null,
    },
    now,
  );
  return changed ? 'updated' : 'unchanged';
}
