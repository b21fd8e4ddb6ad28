import { randomUUID } from 'node:crypto';
import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import type {
  TrustedIssuer,
  TrustedIssuerInput,
  TrustedIssuerPatch,
} from '../routes/trusted-issuers/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

export interface DbTrustedIssuerRow {
  id: string;
  slug: string;
  issuer: string;
  jwks_url: string;
  audience: string;
  algorithms: TrustedIssuer['algorithms'];
  client_claim: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}

/** Whether plain-http URLs to loopback hosts are accepted (development mode only). */
export interface IssuerUrlPolicy {
  allowLoopbackHttp: boolean;
}

const STRICT: IssuerUrlPolicy = { allowLoopbackHttp: false };
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function issuerUrlPolicyOf(config: { SPL_MODE: 'development' | 'production' }): IssuerUrlPolicy {
  return { allowLoopbackHttp: config.SPL_MODE === 'development' };
}

/**
 * Federated keys and tokens travel over TLS (BKS 60(3)(a)); a loopback http URL is allowed
 * in development so a local test issuer can stand in for the national SPLP.
 */
function assertUrl(field: string, value: string, policy: IssuerUrlPolicy): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.SPL_VALIDATION(`${field} is not a URL`, {
      extensions: { errors: [{ pointer: `body:/${field}`, message: 'must be a URL' }] },
    });
  }
  if (url.protocol === 'https:' && !url.username && !url.password) return;
  if (url.protocol === 'http:' && policy.allowLoopbackHttp && LOOPBACK_HOSTS.has(url.hostname)) return;
  throw errors.SPL_VALIDATION(
    `${field} must be an https URL without credentials${policy.allowLoopbackHttp ? ' (http only for loopback hosts)' : ''}`,
    { extensions: { errors: [{ pointer: `body:/${field}`, message: 'must be https' }] } },
  );
}

export function trustedIssuerOfRow(row: DbTrustedIssuerRow): TrustedIssuer {
  return {
    slug: row.slug,
    issuer: row.issuer,
    jwksUrl: row.jwks_url,
    audience: row.audience,
    algorithms: row.algorithms,
    clientClaim: row.client_claim,
    description: row.description,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited (and compared) form: every field that means something, no timestamps. */
function audited(t: Omit<TrustedIssuer, 'createdAt' | 'updatedAt'>) {
  return {
    slug: t.slug,
    issuer: t.issuer,
    jwksUrl: t.jwksUrl,
    audience: t.audience,
    algorithms: t.algorithms,
    clientClaim: t.clientClaim,
    description: t.description,
  };
}

export async function listTrustedIssuers(db: Sql): Promise<TrustedIssuer[]> {
  const rows = await db.query<DbTrustedIssuerRow>('SELECT * FROM trusted_issuers ORDER BY slug');
  return rows.map(trustedIssuerOfRow);
}

export async function findTrustedIssuerRow(db: Sql, slug: string): Promise<DbTrustedIssuerRow | undefined> {
  const [row] = await db.query<DbTrustedIssuerRow>('SELECT * FROM trusted_issuers WHERE slug = $1', [slug]);
  return row;
}

export async function getTrustedIssuerRow(db: Sql, slug: string): Promise<DbTrustedIssuerRow> {
  const row = await findTrustedIssuerRow(db, slug);
  if (!row) throw errors.SPL_NOT_FOUND(`no trusted issuer ${slug}`);
  return row;
}

export async function createTrustedIssuer(
  tx: Sql,
  audit: RecordAudit,
  input: TrustedIssuerInput,
  now: Date,
  policy: IssuerUrlPolicy = STRICT,
): Promise<TrustedIssuer> {
  assertUrl('issuer', input.issuer, policy);
  assertUrl('jwksUrl', input.jwksUrl, policy);
  try {
    const [row] = await tx.query<DbTrustedIssuerRow>(
      `INSERT INTO trusted_issuers (id, slug, issuer, jwks_url, audience, algorithms, client_claim, description,
                                    created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
      [
        randomUUID(),
        input.slug,
        input.issuer,
        input.jwksUrl,
        input.audience,
        input.algorithms,
        input.clientClaim,
        input.description ?? '',
        now.toISOString(),
      ],
    );
    const created = trustedIssuerOfRow(row!);
    await audit({
      action: 'trusted-issuer.create',
      entityType: 'trusted-issuer',
      entityId: input.slug,
      after: audited(created),
    });
    return created;
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT(
        `a trusted issuer ${input.slug} or with issuer ${input.issuer} already exists`,
      );
    throw err;
  }
}

/** Applies the fields given; writes and records nothing when they change nothing. */
export async function updateTrustedIssuer(
  tx: Sql,
  audit: RecordAudit,
  slug: string,
  patch: TrustedIssuerPatch,
  now: Date,
  policy: IssuerUrlPolicy = STRICT,
): Promise<{ issuer: TrustedIssuer; changed: boolean }> {
  const current = trustedIssuerOfRow(await getTrustedIssuerRow(tx, slug));
  const before = audited(current);
  const next = {
    ...before,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  } as typeof before;
  if (JSON.stringify(next) === JSON.stringify(before)) return { issuer: current, changed: false };
  if (next.issuer !== before.issuer) assertUrl('issuer', next.issuer, policy);
  if (next.jwksUrl !== before.jwksUrl) assertUrl('jwksUrl', next.jwksUrl, policy);
  try {
    const [row] = await tx.query<DbTrustedIssuerRow>(
      `UPDATE trusted_issuers SET issuer = $2, jwks_url = $3, audience = $4, algorithms = $5, client_claim = $6,
              description = $7, updated_at = $8
        WHERE slug = $1 RETURNING *`,
      [
        slug,
        next.issuer,
        next.jwksUrl,
        next.audience,
        next.algorithms,
        next.clientClaim,
        next.description,
        now.toISOString(),
      ],
    );
    const after = trustedIssuerOfRow(row!);
    await audit({
      action: 'trusted-issuer.update',
      entityType: 'trusted-issuer',
      entityId: slug,
      before,
      after: audited(after),
    });
    return { issuer: after, changed: true };
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.SPL_CONFLICT(`another trusted issuer has issuer ${next.issuer}`);
    throw err;
  }
}

/** Refused while applications are bound to it: their tokens would silently stop mapping. */
export async function deleteTrustedIssuer(tx: Sql, audit: RecordAudit, slug: string): Promise<void> {
  const current = await getTrustedIssuerRow(tx, slug);
  const bound = await tx.query<{ ref: string }>(
    `SELECT o.slug || '/' || a.slug AS ref FROM applications a JOIN organisations o ON o.id = a.org_id
      WHERE a.trusted_issuer_id = $1 ORDER BY 1 LIMIT 6`,
    [current.id],
  );
  if (bound.length > 0)
    throw errors.SPL_CONFLICT(
      `trusted issuer ${slug} still has applications bound to it (${bound
        .slice(0, 5)
        .map((b) => b.ref)
        .join(', ')}${bound.length > 5 ? ', …' : ''})`,
    );
  await tx.query('DELETE FROM trusted_issuers WHERE id = $1', [current.id]);
  await audit({
    action: 'trusted-issuer.delete',
    entityType: 'trusted-issuer',
    entityId: slug,
    before: audited(trustedIssuerOfRow(current)),
  });
}

/**
 * Declarative apply (`spl apply`): creates the issuer or brings it to `input`; idempotent.
 * An omitted description means empty, so the file is the whole truth about the issuer.
 */
export async function applyTrustedIssuer(
  tx: Sql,
  audit: RecordAudit,
  input: TrustedIssuerInput,
  now: Date,
  policy: IssuerUrlPolicy = STRICT,
): Promise<{ result: 'created' | 'updated' | 'unchanged'; issuer: TrustedIssuer }> {
  const existing = await findTrustedIssuerRow(tx, input.slug);
  if (!existing)
    return { result: 'created', issuer: await createTrustedIssuer(tx, audit, input, now, policy) };
  const { slug: _slug, ...patch } = input;
  const { issuer, changed } = await updateTrustedIssuer(
    tx,
    audit,
    input.slug,
    { ...patch, description: input.description ?? '' },
    now,
    policy,
  );
  return { result: changed ? 'updated' : 'unchanged', issuer };
}
