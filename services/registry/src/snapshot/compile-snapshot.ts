import { createHash } from 'node:crypto';
import { ROUTE_STATES, SNAPSHOT_FORMAT, SUBSCRIPTION_STATES } from '@spl/snapshot';
import type { Database, Sql } from '../store/database.js';

/**
 * The snapshot's lists as JSON text, each built by PostgreSQL (json_agg) in the shape of
 * the @spl/snapshot schema — the registry's tests validate the assembled document against
 * that schema. Building JSON in the database and splicing text, instead of turning 10,000
 * rows into objects and back, is what keeps a compile well under a second (bench/).
 */
export interface SnapshotSections {
  hubKeys: string;
  trustedIssuers: string;
  organisations: string;
  applications: string;
  routes: string;
  subscriptions: string;
  /** Content hashes of the OpenAPI documents the routes use, sorted. */
  openapiHashes: string[];
  /** Event topics (published, deprecated), as JSON text. */
  topics: string;
  /** Topic subscriptions (approved, suspended) with their sealed webhook secrets, as JSON text. */
  topicSubscriptions: string;
  /** Content hashes of the event schemas the topics use, sorted. */
  eventSchemaHashes: string[];
}

export interface CompiledContent {
  /** The audit-log head seq the content was read at (one REPEATABLE READ transaction). */
  headSeq: number;
  issuer: string;
  audience: string;
  sections: SnapshotSections;
  /** OpenAPI documents by hash, as JSON text (shared with the cache, never copied). */
  documents: ReadonlyMap<string, string>;
  /** Event data schemas by hash, as JSON text. */
  eventSchemas: ReadonlyMap<string, string>;
  /** sha256 hex of the content; the ETag. */
  etag: string;
  /**
   * When a hub key or a webhook secret in it passes `not_after`, the content is out of date
   * without any change.
   */
  staleAfter: Date | null;
}

/**
 * What one compile leaves for the next, so that after a change only what changed is
 * built again:
 * - `openapi`: documents (JSON text) by content hash. The hash is the content address,
 *   so a cached document never goes stale.
 * - `routes`: each route's JSON text by version id, with the row versions (`xmin`) of the
 *   version, API and organisation rows it was built from. PostgreSQL gives every new row
 *   version a new xmin, whatever code path wrote it, so a changed stamp is a sure sign of
 *   a change and an equal one of none.
 */
export interface CompileCache {
  openapi: Map<string, string>;
  routes: Map<string, { stamp: string; json: string }>;
}

export function createCompileCache(): CompileCache {
  return { openapi: new Map(), routes: new Map() };
}

const inList = (values: readonly string[]) => `(${values.map((s) => `'${s}'`).join(', ')})`;
const ROUTE_STATE_LIST = inList(ROUTE_STATES);
const SUBSCRIPTION_STATE_LIST = inList(SUBSCRIPTION_STATES);

/** ISO 8601 in UTC with milliseconds, as JavaScript's toISOString writes it. */
const isoOf = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// Lists are ordered inside json_agg (COLLATE "C": byte order, the same on every server)
// and objects are built with a fixed key order, so equal content gives equal text and an
// equal etag. json_strip_nulls drops the optional members that are absent; no required
// member is ever null.
const SQL_HEAD = 'SELECT coalesce(max(seq), 0)::int8 AS seq FROM audit_log';

// Public members only, by name (an allow-list): a private `d` can never slip through.
const SQL_KEYS = `SELECT coalesce(json_agg(json_strip_nulls(json_build_object(
           'kty', k.public_jwk->'kty', 'kid', to_json(k.kid), 'alg', k.public_jwk->'alg', 'use', k.public_jwk->'use',
           'crv', k.public_jwk->'crv', 'x', k.public_jwk->'x', 'y', k.public_jwk->'y',
           'n', k.public_jwk->'n', 'e', k.public_jwk->'e'))
         ORDER BY k.created_at DESC, k.kid COLLATE "C"), '[]')::text AS keys,
       min(k.not_after) AS stale_after
  FROM signing_keys k WHERE k.not_after IS NULL OR k.not_after > $1`;

const SQL_TRUSTED_ISSUERS = `SELECT coalesce(json_agg(json_build_object(
           'slug', slug, 'issuer', issuer, 'jwksUrl', jwks_url, 'audience', audience,
           'algorithms', to_json(algorithms), 'clientClaim', client_claim)
         ORDER BY slug COLLATE "C"), '[]')::text AS json
  FROM trusted_issuers`;

const SQL_ORGANISATIONS = `SELECT coalesce(json_agg(json_build_object('slug', slug, 'kind', kind)
         ORDER BY slug COLLATE "C"), '[]')::text AS json
  FROM organisations`;

const SQL_APPLICATIONS = `SELECT coalesce(json_agg(json_strip_nulls(json_build_object(
           'id', a.id, 'org', o.slug, 'slug', a.slug, 'clientIds', coalesce(c.client_ids, '[]'),
           'federated', CASE WHEN ti.issuer IS NOT NULL
                             THEN json_build_object('issuer', ti.issuer, 'clientClaimValue', a.external_client_id) END))
         ORDER BY o.slug COLLATE "C", a.slug COLLATE "C"), '[]')::text AS json
  FROM applications a
  JOIN organisations o ON o.id = a.org_id
  LEFT JOIN trusted_issuers ti ON ti.id = a.trusted_issuer_id
  LEFT JOIN (SELECT application_id, json_agg(client_id ORDER BY client_id COLLATE "C") AS client_ids
               FROM oauth_clients
              WHERE application_id IS NOT NULL AND kind = 'application' AND NOT disabled
              GROUP BY application_id) c ON c.application_id = a.id`;

// The upstream auth: the stored non-secret parts by kind (an allow-list), and the secret
// exactly as sealed at rest. The compiler never opens it; the data planes open it with
// the shared SPL_MASTER_KEY and upstreamSecretContext(route.id) (see @spl/snapshot).
const ROUTE_FROM = `FROM api_versions v
  JOIN apis a ON a.id = v.api_id
  JOIN organisations o ON o.id = a.org_id`;

/** Which routes there are, in order, and the row versions each is built from. */
const SQL_ROUTE_STAMPS = `SELECT v.id, v.xmin::text || '.' || a.xmin::text || '.' || o.xmin::text AS stamp, v.openapi_hash
  ${ROUTE_FROM}
 WHERE v.state IN ${ROUTE_STATE_LIST}
 ORDER BY o.slug COLLATE "C", a.slug COLLATE "C", v.version COLLATE "C"`;

/** The JSON of the routes not cached (or changed) since the last compile. */
const SQL_ROUTES = `SELECT v.id, v.xmin::text || '.' || a.xmin::text || '.' || o.xmin::text AS stamp,
       json_strip_nulls(json_build_object(
           'id', v.id, 'org', o.slug, 'api', a.slug, 'version', v.version, 'state', v.state,
           'classification', a.classification, 'sunsetAt', ${isoOf('v.sunset_at')},
           'upstream', json_build_object('urls', v.upstream->'urls',
                                         'timeoutMs', coalesce(v.upstream->'timeoutMs', '10000')),
           'upstreamAuth', CASE v.upstream_auth->>'kind'
             WHEN 'header' THEN json_build_object('kind', 'header', 'name', coalesce(v.upstream_auth->>'name', ''),
                                                  'sealedSecret', v.upstream_secret)
             WHEN 'oauth2' THEN json_build_object('kind', 'oauth2', 'tokenUrl', coalesce(v.upstream_auth->>'tokenUrl', ''),
                                                  'clientId', coalesce(v.upstream_auth->>'clientId', ''),
                                                  'scope', v.upstream_auth->>'scope', 'sealedSecret', v.upstream_secret)
             WHEN 'mtls' THEN json_build_object('kind', 'mtls', 'certificatePem', coalesce(v.upstream_auth->>'certificatePem', ''),
                                                'caPem', v.upstream_auth->>'caPem', 'sealedSecret', v.upstream_secret)
             ELSE json_build_object('kind', 'none') END,
           'plan', json_build_object('requestsPerMinute', v.plan->'requestsPerMinute', 'burst', v.plan->'burst',
                                     'quotaPerDay', v.plan->'quotaPerDay',
                                     'bodyLimitBytes', coalesce(v.plan->'bodyLimitBytes', '1048576')),
           'methods', to_json(v.methods), 'openapiHash', v.openapi_hash,
           'restrictedFields', to_json(v.restricted_fields)))::text AS json
  ${ROUTE_FROM}
 WHERE v.id = ANY($1::text[])`;

// Plain rows, turned into JSON in JavaScript: for 20,000 small rows that is cheaper than
// json_agg (measured in bench/).
const SQL_SUBSCRIPTIONS = `SELECT s.application_id, o.slug AS org, a.slug AS api, v.version, s.state
  FROM subscriptions s
  JOIN api_versions v ON v.id = s.version_id
  JOIN apis a ON a.id = v.api_id
  JOIN organisations o ON o.id = a.org_id
 WHERE s.state IN ${SUBSCRIPTION_STATE_LIST} AND v.state IN ${ROUTE_STATE_LIST}
 ORDER BY s.application_id COLLATE "C", o.slug COLLATE "C", a.slug COLLATE "C", v.version COLLATE "C"`;

// Event topics (issue 4): few, so built whole on every compile. Who may publish: every
// application of the owning organisation, and the holders of a publish grant.
const SQL_TOPICS = `SELECT coalesce(json_agg(json_build_object(
           'id', t.id, 'org', o.slug, 'topic', t.slug, 'state', t.state, 'classification', t.classification,
           'schemaHash', t.schema_hash,
           'publisherApplicationIds', coalesce((
             SELECT json_agg(p.id ORDER BY p.id COLLATE "C") FROM (
               SELECT a.id FROM applications a WHERE a.org_id = t.org_id
               UNION SELECT g.application_id FROM topic_publish_grants g WHERE g.topic_id = t.id) p), '[]'),
           'limits', json_build_object('maxEventBytes', t.limits->'maxEventBytes',
                                       'publishPerMinute', t.limits->'publishPerMinute',
                                       'duplicateWindowSeconds', t.limits->'duplicateWindowSeconds',
                                       'retentionHours', t.limits->'retentionHours'))
         ORDER BY o.slug COLLATE "C", t.slug COLLATE "C"), '[]')::text AS json,
       coalesce(array_agg(DISTINCT t.schema_hash), '{}') AS hashes
  FROM topics t JOIN organisations o ON o.id = t.org_id
 WHERE t.state IN ${ROUTE_STATE_LIST}`;

// Push subscriptions carry every secret not yet past its overlap, the current one first, sealed as
// stored (the broker opens them with webhookSecretContext(id)). $1 = now.
const SQL_TOPIC_SUBSCRIPTIONS = `SELECT coalesce(json_agg(json_strip_nulls(json_build_object(
           'id', s.id, 'applicationId', s.application_id, 'org', o.slug, 'topic', t.slug, 'state', s.state,
           'mode', s.mode,
           'push', CASE WHEN s.mode = 'push' THEN json_build_object('url', s.push_url, 'secrets', (
             SELECT json_agg(json_build_object('sealedSecret', w.sealed_secret, 'notAfter', ${isoOf('w.not_after')})
                             ORDER BY w.not_after DESC NULLS FIRST, w.created_at DESC, w.id COLLATE "C")
               FROM webhook_secrets w
              WHERE w.subscription_id = s.id AND (w.not_after IS NULL OR w.not_after > $1))) END,
           'types', to_json(s.types), 'subjectPrefixes', to_json(s.subject_prefixes)))
         ORDER BY o.slug COLLATE "C", t.slug COLLATE "C", s.id COLLATE "C"), '[]')::text AS json,
       (SELECT min(w.not_after) FROM webhook_secrets w JOIN topic_subscriptions ws ON ws.id = w.subscription_id
         WHERE w.not_after > $1 AND ws.state IN ${SUBSCRIPTION_STATE_LIST}) AS stale_after
  FROM topic_subscriptions s
  JOIN topics t ON t.id = s.topic_id
  JOIN organisations o ON o.id = t.org_id
 WHERE s.state IN ${SUBSCRIPTION_STATE_LIST} AND t.state IN ${ROUTE_STATE_LIST}`;

const SQL_EVENT_SCHEMAS = 'SELECT hash, schema::text AS json FROM event_schemas WHERE hash = ANY($1::text[])';

const SQL_DOCUMENTS =
  'SELECT hash, document::text AS json FROM openapi_documents WHERE hash = ANY($1::text[])';

/** The audit-log head: moves with every committed change, on any registry instance. */
export async function readHeadSeq(db: Sql): Promise<number> {
  const [row] = await db.query<{ seq: number }>(SQL_HEAD);
  return Number(row?.seq ?? 0);
}

/**
 * Reads what the data planes need in ten set-based queries (never one per route),
 * inside one read-only REPEATABLE READ transaction so the parts agree with each other
 * and with `headSeq`.
 */
export async function compileSnapshotContent(
  db: Database,
  options: { issuer: string; audience: string; now: Date; cache?: CompileCache },
): Promise<CompiledContent> {
  const cache = options.cache ?? createCompileCache();
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const json = async (sql: string) => (await tx.query<{ json: string }>(sql))[0]?.json ?? '[]';
    const headSeq = await readHeadSeq(tx);
    const [keys] = await tx.query<{ keys: string; stale_after: Date | null }>(SQL_KEYS, [
      options.now.toISOString(),
    ]);
    const trustedIssuers = await json(SQL_TRUSTED_ISSUERS);
    const organisations = await json(SQL_ORGANISATIONS);
    const applications = await json(SQL_APPLICATIONS);
    const routes = await compileRoutes(tx, cache);
    const subscriptionRows = await tx.query<DbSubscriptionRow>(SQL_SUBSCRIPTIONS);
    const subscriptions = `[${subscriptionRows.map(subscriptionJson).join(',')}]`;

    const openapiHashes = routes.hashes;
    const missing = openapiHashes.filter((h) => !cache.openapi.has(h));
    if (missing.length > 0)
      for (const row of await tx.query<{ hash: string; json: string }>(SQL_DOCUMENTS, [missing]))
        cache.openapi.set(row.hash, row.json);
    for (const hash of missing)
      if (!cache.openapi.has(hash)) throw new Error(`OpenAPI document ${hash} is missing from the store`);
    // Forget documents no route uses any more, so the cache stays as large as one snapshot.
    if (cache.openapi.size > openapiHashes.length) {
      const used = new Set(openapiHashes);
      for (const hash of cache.openapi.keys()) if (!used.has(hash)) cache.openapi.delete(hash);
    }

    const [topicRow] = await tx.query<{ json: string; hashes: string[] }>(SQL_TOPICS);
    const eventSchemaHashes = [...(topicRow?.hashes ?? [])].sort();
    const eventSchemas = new Map<string, string>();
    if (eventSchemaHashes.length > 0)
      for (const row of await tx.query<{ hash: string; json: string }>(SQL_EVENT_SCHEMAS, [
        eventSchemaHashes,
      ]))
        eventSchemas.set(row.hash, row.json);
    const [topicSubscriptions] = await tx.query<{ json: string; stale_after: Date | null }>(
      SQL_TOPIC_SUBSCRIPTIONS,
      [options.now.toISOString()],
    );
    const staleAfter = [keys?.stale_after, topicSubscriptions?.stale_after]
      .filter((d): d is Date => d !== null && d !== undefined)
      .map((d) => new Date(d))
      .sort((a, b) => a.getTime() - b.getTime())[0];

    const sections: SnapshotSections = {
      hubKeys: keys?.keys ?? '[]',
      trustedIssuers,
      organisations,
      applications,
      routes: routes.json,
      subscriptions,
      openapiHashes,
      topics: topicRow?.json ?? '[]',
      topicSubscriptions: topicSubscriptions?.json ?? '[]',
      eventSchemaHashes,
    };
    return {
      headSeq,
      issuer: options.issuer,
      audience: options.audience,
      sections,
      documents: cache.openapi,
      eventSchemas,
      etag: contentEtag(options.issuer, options.audience, sections),
      staleAfter: staleAfter ?? null,
    };
  });
}

interface DbSubscriptionRow {
  application_id: string;
  org: string;
  api: string;
  version: string;
  state: string;
}

function subscriptionJson(r: DbSubscriptionRow): string {
  const str = JSON.stringify;
  return `{"applicationId":${str(r.application_id)},"org":${str(r.org)},"api":${str(r.api)},"version":${str(r.version)},"state":${str(r.state)}}`;
}

/** The routes' JSON: stamps for all, JSON built by PostgreSQL only for the changed ones. */
async function compileRoutes(tx: Sql, cache: CompileCache): Promise<{ json: string; hashes: string[] }> {
  const stamps = await tx.query<{ id: string; stamp: string; openapi_hash: string }>(SQL_ROUTE_STAMPS);
  const stale = stamps.filter((r) => cache.routes.get(r.id)?.stamp !== r.stamp).map((r) => r.id);
  if (stale.length > 0)
    for (const row of await tx.query<{ id: string; stamp: string; json: string }>(SQL_ROUTES, [stale]))
      cache.routes.set(row.id, { stamp: row.stamp, json: row.json });
  if (cache.routes.size > stamps.length) {
    const live = new Set(stamps.map((r) => r.id));
    for (const id of cache.routes.keys()) if (!live.has(id)) cache.routes.delete(id);
  }
  const parts: string[] = new Array(stamps.length);
  const hashes = new Set<string>();
  for (let i = 0; i < stamps.length; i++) {
    const row = stamps[i]!;
    const cached = cache.routes.get(row.id);
    // Changed again between the two reads cannot happen: both run in one REPEATABLE READ snapshot.
    if (!cached || cached.stamp !== row.stamp) throw new Error(`route ${row.id} could not be compiled`);
    parts[i] = cached.json;
    hashes.add(row.openapi_hash);
  }
  return { json: `[${parts.join(',')}]`, hashes: [...hashes].sort() };
}

/**
 * sha256 over the content: every section's text (deterministic, see above) and, for the
 * OpenAPI documents, their hashes — each already the sha256 of the document's RFC 8785
 * canonical JSON — so megabytes of documents are not hashed again on every compile.
 */
export function contentEtag(issuer: string, audience: string, s: SnapshotSections): string {
  const hash = createHash('sha256');
  for (const part of [
    issuer,
    audience,
    s.hubKeys,
    s.trustedIssuers,
    s.organisations,
    s.applications,
    s.routes,
    s.subscriptions,
    s.openapiHashes.join(','),
    s.topics,
    s.topicSubscriptions,
    s.eventSchemaHashes.join(','),
  ])
    hash.update(part).update('\u0000');
  return hash.digest('hex');
}

/** The wire document (@spl/snapshot `Snapshot`) as JSON text: the sections spliced together. */
export function snapshotTextOf(compiled: CompiledContent, generatedAt: Date): string {
  const { sections: s } = compiled;
  const openapi = s.openapiHashes.map((h) => `${JSON.stringify(h)}:${compiled.documents.get(h)}`).join(',');
  const eventSchemas = s.eventSchemaHashes
    .map((h) => `${JSON.stringify(h)}:${compiled.eventSchemas.get(h)}`)
    .join(',');
  return (
    `{"format":${SNAPSHOT_FORMAT},"version":${compiled.headSeq},"etag":"${compiled.etag}",` +
    `"generatedAt":"${generatedAt.toISOString()}","issuer":${JSON.stringify(compiled.issuer)},` +
    `"audience":${JSON.stringify(compiled.audience)},"hubKeys":{"keys":${s.hubKeys}},` +
    `"trustedIssuers":${s.trustedIssuers},"organisations":${s.organisations},` +
    `"applications":${s.applications},"routes":${s.routes},"openapi":{${openapi}},` +
    `"subscriptions":${s.subscriptions},"topics":${s.topics},"eventSchemas":{${eventSchemas}},` +
    `"topicSubscriptions":${s.topicSubscriptions}}`
  );
}
