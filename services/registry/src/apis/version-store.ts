import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import type { SecretBox } from '@spl/secret-box';
import { parse as parseYaml } from 'yaml';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';
import type {
  ApiVersion,
  Plan,
  Upstream,
  UpstreamAuth,
  UpstreamAuthInput,
  VersionInput,
  VersionPatch,
  VersionState,
} from '../routes/apis/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';
import { canSeeVersionState, type DbApiWithOrgRow, findApiRow, getVisibleApiRow } from './api-store.js';
import { type CheckedOpenApi, checkOpenApi, restrictedFieldNames } from './openapi-document.js';

export interface DbApiVersionRow {
  id: string;
  api_id: string;
  version: string;
  state: VersionState;
  openapi_hash: string;
  restricted_fields: string[];
  methods: string[];
  upstream: Upstream;
  upstream_auth: UpstreamAuth;
  /** Sealed JSON of the secret parts of the upstream auth (context `upstream-secret:<id>`). */
  upstream_secret: string | null;
  plan: Plan;
  review_note: string | null;
  sunset_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Names one version: organisation, API and version slugs. */
export interface VersionRef {
  org: string;
  api: string;
  version: string;
}

/** What version code needs from the registry. */
export interface VersionContext {
  config: Pick<RegistryConfig, 'SPL_OPENAPI_MAX_BYTES'>;
  secretBox: SecretBox;
  clock: () => Date;
}

/** The secret parts of an upstream's authentication; sealed at rest, never answered or audited. */
export type UpstreamSecret = { value: string } | { clientSecret: string } | { privateKeyPem: string };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export function upstreamSecretContext(versionId: string): string {
  return `upstream-secret:${versionId}`;
}

/** Opens a version's sealed upstream secret (the snapshot compiler needs it). */
export function openUpstreamSecret(
  secretBox: SecretBox,
  row: Pick<DbApiVersionRow, 'id' | 'upstream_secret'>,
) {
  if (!row.upstream_secret) return null;
  return JSON.parse(secretBox.open(row.upstream_secret, upstreamSecretContext(row.id))) as UpstreamSecret;
}

/** Splits the upload into what may be shown and stored in the clear, and what is sealed. */
export function splitUpstreamAuth(auth: UpstreamAuthInput): {
  shown: UpstreamAuth;
  secret: UpstreamSecret | null;
} {
  switch (auth.kind) {
    case 'none':
      return { shown: { kind: 'none' }, secret: null };
    case 'header':
      return { shown: { kind: 'header', name: auth.name }, secret: { value: auth.value } };
    case 'oauth2':
      return {
        shown: {
          kind: 'oauth2',
          tokenUrl: auth.tokenUrl,
          clientId: auth.clientId,
          ...(auth.scope !== undefined ? { scope: auth.scope } : {}),
        },
        secret: { clientSecret: auth.clientSecret },
      };
    case 'mtls':
      return {
        shown: {
          kind: 'mtls',
          certificatePem: auth.certificatePem,
          ...(auth.caPem !== undefined ? { caPem: auth.caPem } : {}),
        },
        secret: { privateKeyPem: auth.privateKeyPem },
      };
  }
}

export function versionOfRow(row: DbApiVersionRow, org: string, api: string): ApiVersion {
  return {
    org,
    api,
    version: row.version,
    state: row.state,
    openapiHash: row.openapi_hash,
    methods: row.methods,
    restrictedFields: row.restricted_fields,
    restrictedFieldNames: restrictedFieldNames(row.restricted_fields),
    upstream: row.upstream,
    upstreamAuth: row.upstream_auth,
    hasSecret: row.upstream_secret !== null,
    plan: row.plan,
    ...(row.review_note !== null ? { reviewNote: row.review_note } : {}),
    ...(row.sunset_at ? { sunsetAt: new Date(row.sunset_at).toISOString() } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited form: everything but timestamps, and never the secret. */
export function auditedVersion(v: ApiVersion) {
  return {
    org: v.org,
    api: v.api,
    version: v.version,
    state: v.state,
    openapiHash: v.openapiHash,
    methods: v.methods,
    restrictedFields: v.restrictedFields,
    upstream: v.upstream,
    upstreamAuth: v.upstreamAuth,
    hasSecret: v.hasSecret,
    plan: v.plan,
    sunsetAt: v.sunsetAt ?? null,
  };
}

/** A version's definition, checked and split, ready to be written. */
export interface PreparedDefinition {
  openapi: CheckedOpenApi;
  upstream: Upstream;
  upstreamAuth: UpstreamAuth;
  secret: UpstreamSecret | null;
  plan: Plan;
  sunsetAt: string | null;
}

function normalisedUpstream(u: Upstream): Upstream {
  return {
    urls: u.urls,
    timeoutMs: u.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(u.healthPath !== undefined ? { healthPath: u.healthPath } : {}),
  };
}

function normalisedPlan(p: Plan): Plan {
  return {
    requestsPerMinute: p.requestsPerMinute,
    ...(p.burst !== undefined ? { burst: p.burst } : {}),
    ...(p.quotaPerDay !== undefined ? { quotaPerDay: p.quotaPerDay } : {}),
    bodyLimitBytes: p.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
  };
}

/**
 * Parses and validates the document and splits the upstream auth. Runs before the
 * transaction opens (validation is CPU work); throws SPL_INVALID_OPENAPI or
 * SPL_PAYLOAD_TOO_LARGE, so nothing is stored for a bad upload.
 */
export async function prepareDefinition(
  input: Omit<VersionInput, 'version'>,
  ctx: Pick<VersionContext, 'config'>,
): Promise<PreparedDefinition> {
  const openapi = await checkOpenApi(input.openapi, ctx.config.SPL_OPENAPI_MAX_BYTES);
  const { shown, secret } = splitUpstreamAuth(input.upstreamAuth ?? { kind: 'none' });
  return {
    openapi,
    upstream: normalisedUpstream(input.upstream),
    upstreamAuth: shown,
    secret,
    plan: normalisedPlan(input.plan),
    sunsetAt: input.sunsetAt ? new Date(input.sunsetAt).toISOString() : null,
  };
}

async function storeDocument(tx: Sql, openapi: CheckedOpenApi, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO openapi_documents (hash, document, source, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (hash) DO NOTHING`,
    [openapi.hash, JSON.stringify(openapi.document), openapi.source, now.toISOString()],
  );
}

async function requireApi(tx: Sql, org: string, api: string): Promise<DbApiWithOrgRow> {
  const row = await findApiRow(tx, org, api);
  if (!row) throw errors.SPL_NOT_FOUND(`no API ${org}/${api}`);
  return row;
}

export async function findVersionRow(
  db: Sql,
  apiId: string,
  version: string,
): Promise<DbApiVersionRow | undefined> {
  const [row] = await db.query<DbApiVersionRow>(
    'SELECT * FROM api_versions WHERE api_id = $1 AND version = $2',
    [apiId, version],
  );
  return row;
}

/** Creates a draft version. The caller has checked that the principal acts for `org`. */
export async function createVersion(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  api: string,
  version: string,
  definition: PreparedDefinition,
  ctx: VersionContext,
): Promise<ApiVersion> {
  const apiRow = await requireApi(tx, org, api);
  const now = ctx.clock();
  const id = randomUUID();
  await storeDocument(tx, definition.openapi, now);
  let row: DbApiVersionRow | undefined;
  try {
    [row] = await tx.query<DbApiVersionRow>(
      `INSERT INTO api_versions (id, api_id, version, state, openapi_hash, restricted_fields, methods, upstream,
                                 upstream_auth, upstream_secret, plan, sunset_at, created_at, updated_at)
       VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING *`,
      [
        id,
        apiRow.id,
        version,
        definition.openapi.hash,
        definition.openapi.restrictedFields,
        definition.openapi.methods,
        JSON.stringify(definition.upstream),
        JSON.stringify(definition.upstreamAuth),
        definition.secret
          ? ctx.secretBox.seal(JSON.stringify(definition.secret), upstreamSecretContext(id))
          : null,
        JSON.stringify(definition.plan),
        definition.sunsetAt,
        now.toISOString(),
      ],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.SPL_CONFLICT(`version ${org}/${api}/${version} already exists`);
    throw err;
  }
  const created = versionOfRow(row!, org, api);
  await audit({
    action: 'api_version.create',
    entityType: 'api_version',
    entityId: `${org}/${api}/${version}`,
    after: auditedVersion(created),
  });
  return created;
}

/** The comparable definition of a stored version; the secret is opened only to compare it. */
function storedDefinition(row: DbApiVersionRow, secretBox: SecretBox) {
  return {
    openapiHash: row.openapi_hash,
    upstream: row.upstream,
    upstreamAuth: row.upstream_auth,
    secret: openUpstreamSecret(secretBox, row),
    plan: row.plan,
    sunsetAt: row.sunset_at ? new Date(row.sunset_at).toISOString() : null,
  };
}

type ComparableDefinition = ReturnType<typeof storedDefinition>;

function comparable(d: PreparedDefinition): ComparableDefinition {
  return {
    openapiHash: d.openapi.hash,
    upstream: d.upstream,
    upstreamAuth: d.upstreamAuth,
    secret: d.secret,
    plan: d.plan,
    sunsetAt: d.sunsetAt,
  };
}

/**
 * Writes a new definition over a draft. Identical definitions write and record nothing;
 * a version past draft is immutable (SPL_IMMUTABLE) — its document went through review.
 */
async function writeDraft(
  tx: Sql,
  audit: RecordAudit,
  ref: VersionRef,
  current: DbApiVersionRow,
  next: ComparableDefinition,
  openapi: CheckedOpenApi | null,
  ctx: VersionContext,
): Promise<{ version: ApiVersion; changed: boolean }> {
  const before = storedDefinition(current, ctx.secretBox);
  if (canonicalJson(before) === canonicalJson(next))
    return { version: versionOfRow(current, ref.org, ref.api), changed: false };
  if (current.state !== 'draft')
    throw errors.SPL_IMMUTABLE(
      `version ${ref.org}/${ref.api}/${ref.version} is ${current.state}; only a draft can be changed (create a new version)`,
    );
  const now = ctx.clock();
  if (openapi) await storeDocument(tx, openapi, now);
  const secretChanged = canonicalJson(before.secret) !== canonicalJson(next.secret);
  const sealed = !secretChanged
    ? current.upstream_secret
    : next.secret
      ? ctx.secretBox.seal(JSON.stringify(next.secret), upstreamSecretContext(current.id))
      : null;
  const [row] = await tx.query<DbApiVersionRow>(
    `UPDATE api_versions SET openapi_hash = $2, restricted_fields = $3, methods = $4, upstream = $5,
                             upstream_auth = $6, upstream_secret = $7, plan = $8, sunset_at = $9, updated_at = $10
     WHERE id = $1 RETURNING *`,
    [
      current.id,
      next.openapiHash,
      openapi ? openapi.restrictedFields : current.restricted_fields,
      openapi ? openapi.methods : current.methods,
      JSON.stringify(next.upstream),
      JSON.stringify(next.upstreamAuth),
      sealed,
      JSON.stringify(next.plan),
      next.sunsetAt,
      now.toISOString(),
    ],
  );
  const after = versionOfRow(row!, ref.org, ref.api);
  await audit({
    action: 'api_version.update',
    entityType: 'api_version',
    entityId: `${ref.org}/${ref.api}/${ref.version}`,
    before: auditedVersion(versionOfRow(current, ref.org, ref.api)),
    after: { ...auditedVersion(after), ...(secretChanged ? { secretChanged: true } : {}) },
  });
  return { version: after, changed: true };
}

/**
 * Changes a draft: only the fields given. The caller has checked that the principal acts
 * for `ref.org`. Any change to a version past draft is SPL_IMMUTABLE.
 */
export async function updateDraftVersion(
  tx: Sql,
  audit: RecordAudit,
  ref: VersionRef,
  patch: Omit<VersionPatch, 'openapi'> & { openapi?: CheckedOpenApi },
  ctx: VersionContext,
): Promise<ApiVersion> {
  const apiRow = await requireApi(tx, ref.org, ref.api);
  const current = await findVersionRow(tx, apiRow.id, ref.version);
  if (!current) throw errors.SPL_NOT_FOUND(`no version ${ref.org}/${ref.api}/${ref.version}`);
  if (current.state !== 'draft')
    throw errors.SPL_IMMUTABLE(
      `version ${ref.org}/${ref.api}/${ref.version} is ${current.state}; only a draft can be changed`,
    );
  const before = storedDefinition(current, ctx.secretBox);
  const auth = patch.upstreamAuth ? splitUpstreamAuth(patch.upstreamAuth) : null;
  const next: ComparableDefinition = {
    openapiHash: patch.openapi?.hash ?? before.openapiHash,
    upstream: patch.upstream ? normalisedUpstream(patch.upstream) : before.upstream,
    upstreamAuth: auth ? auth.shown : before.upstreamAuth,
    secret: auth ? auth.secret : before.secret,
    plan: patch.plan ? normalisedPlan(patch.plan) : before.plan,
    sunsetAt: patch.sunsetAt ? new Date(patch.sunsetAt).toISOString() : before.sunsetAt,
  };
  return (await writeDraft(tx, audit, ref, current, next, patch.openapi ?? null, ctx)).version;
}

/**
 * Creates or updates one version for `spl apply`, inside its transaction, idempotently:
 * an identical definition (document, upstream, auth and its secret, plan, sunset) writes
 * nothing and records nothing; a different one updates a draft and is SPL_IMMUTABLE for a
 * version past draft. Lifecycle state is not touched here (see `transitionVersion`).
 */
export async function applyVersion(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  org: string,
  api: string,
  input: VersionInput,
  ctx: VersionContext,
): Promise<'created' | 'updated' | 'unchanged'> {
  assertActsForOrg(principal, org, ['publisher']);
  const apiRow = await requireApi(tx, org, api);
  const definition = await prepareDefinition(input, ctx);
  const current = await findVersionRow(tx, apiRow.id, input.version);
  if (!current) {
    await createVersion(tx, audit, org, api, input.version, definition, ctx);
    return 'created';
  }
  const ref = { org, api, version: input.version };
  const { changed } = await writeDraft(
    tx,
    audit,
    ref,
    current,
    comparable(definition),
    definition.openapi,
    ctx,
  );
  return changed ? 'updated' : 'unchanged';
}

/** The API and version rows as the caller may see them; 404 for what they may not see. */
export async function getVisibleVersionRows(
  db: Sql,
  principal: Principal,
  ref: VersionRef,
  options: { forUpdate?: boolean } = {},
): Promise<{ api: DbApiWithOrgRow; version: DbApiVersionRow }> {
  const api = await getVisibleApiRow(db, principal, ref.org, ref.api);
  const [version] = await db.query<DbApiVersionRow>(
    `SELECT * FROM api_versions WHERE api_id = $1 AND version = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [api.id, ref.version],
  );
  if (!version || !canSeeVersionState(principal, ref.org, version.state))
    throw errors.SPL_NOT_FOUND(`no version ${ref.org}/${ref.api}/${ref.version}`);
  return { api, version };
}

export async function getVisibleVersion(db: Sql, principal: Principal, ref: VersionRef): Promise<ApiVersion> {
  const { version } = await getVisibleVersionRows(db, principal, ref);
  return versionOfRow(version, ref.org, ref.api);
}

export async function listVisibleVersions(
  db: Sql,
  principal: Principal,
  org: string,
  api: string,
): Promise<ApiVersion[]> {
  const apiRow = await getVisibleApiRow(db, principal, org, api);
  const rows = await db.query<DbApiVersionRow>(
    'SELECT * FROM api_versions WHERE api_id = $1 ORDER BY created_at, version',
    [apiRow.id],
  );
  return rows
    .filter((r) => canSeeVersionState(principal, org, r.state))
    .map((r) => versionOfRow(r, org, api));
}

/**
 * jsonb keeps keys in its own order; the source keeps the author's (`openapi` and `info`
 * first). Answer the source's parse when it is the same document, else the stored one.
 */
function documentInAuthorsOrder(doc: {
  document: Record<string, unknown>;
  source: string;
}): Record<string, unknown> {
  try {
    const parsed = JSON.parse(JSON.stringify(parseYaml(doc.source))) as Record<string, unknown>;
    if (canonicalJson(parsed) === canonicalJson(doc.document)) return parsed;
  } catch {
    // fall through to the stored form
  }
  return doc.document;
}

/** The stored OpenAPI document of a version the caller may see. */
export async function getVersionDocument(
  db: Sql,
  principal: Principal,
  ref: VersionRef,
): Promise<Record<string, unknown>> {
  const { version } = await getVisibleVersionRows(db, principal, ref);
  const [doc] = await db.query<{ document: Record<string, unknown>; source: string }>(
    'SELECT document, source FROM openapi_documents WHERE hash = $1',
    [version.openapi_hash],
  );
  if (!doc) throw errors.SPL_NOT_FOUND(`no OpenAPI document for ${ref.org}/${ref.api}/${ref.version}`);
  return documentInAuthorsOrder(doc);
}
