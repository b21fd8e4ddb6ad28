import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg, canReadAll } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import { errors } from '../errors.js';
import { checkTransition, type LifecycleContext } from '../lifecycle/transitions.js';
import { getOrganisationRow } from '../organisations/organisation-store.js';
import type { Classification, Transition, TransitionInput, VersionState } from '../routes/apis/schemas.js';
import {
  DEFAULT_TOPIC_LIMITS,
  type Topic,
  type TopicInput,
  type TopicLimits,
  type TopicPatch,
  type TopicQuery,
} from '../routes/topics/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';
import { type CheckedEventSchema, checkEventSchema } from './event-schema.js';

/**
 * Event topics (issue 4 §1; the "bus" of BBU Lampiran II.G): registered like APIs, owned by
 * an organisation, with the JSON Schema of their event data and the broker's limits. A topic
 * has one lifecycle of its own, through the same kelaikan gates as an API version
 * (lifecycle/transitions.ts `checkTransition`): its schema and classification change only
 * in draft; description and limits are operational and change at any time.
 */

export interface DbTopicRow {
  id: string;
  org_id: string;
  slug: string;
  description: string;
  classification: Classification;
  schema_hash: string;
  limits: TopicLimits;
  state: VersionState;
  review_note: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface DbTopicWithOrgRow extends DbTopicRow {
  org_slug: string;
  schema: Record<string, unknown>;
}

/** Names one topic: organisation and topic slugs. */
export interface TopicRef {
  org: string;
  topic: string;
}

/** Topic states the broker serves and anyone who sees the topic may see. */
export const PUBLIC_TOPIC_STATES: readonly VersionState[] = ['published', 'deprecated'];

/**
 * SQL condition: the topic `t` (owner `o`) is visible to the caller. Drafts and topics under
 * review or retired are their owner's and the readers-of-all's; a `dikecualikan` topic
 * exists only for them and organisations whose application holds an approved subscription
 * to it. $1 = caller's org slug, $2 = whether the caller reads everything.
 */
const TOPIC_VISIBLE = `($2::boolean OR o.slug = $1 OR (t.state IN ('published', 'deprecated') AND (
  t.classification <> 'dikecualikan' OR EXISTS (
    SELECT 1 FROM topic_subscriptions s
      JOIN applications ap ON ap.id = s.application_id
      JOIN organisations apo ON apo.id = ap.org_id
     WHERE s.topic_id = t.id AND s.state = 'approved' AND apo.slug = $1))))`;

const TOPIC_SELECT = `SELECT t.*, o.slug AS org_slug, es.schema
  FROM topics t JOIN organisations o ON o.id = t.org_id JOIN event_schemas es ON es.hash = t.schema_hash`;

export function normalisedLimits(limits: Partial<TopicLimits> | undefined): TopicLimits {
  return {
    ...DEFAULT_TOPIC_LIMITS,
    ...Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)),
  };
}

async function publishGrantsOf(db: Sql, topicIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(topicIds.map((id) => [id, []]));
  if (topicIds.length === 0) return out;
  const rows = await db.query<{ topic_id: string; app: string }>(
    `SELECT g.topic_id, ao.slug || '/' || a.slug AS app FROM topic_publish_grants g
       JOIN applications a ON a.id = g.application_id JOIN organisations ao ON ao.id = a.org_id
      WHERE g.topic_id = ANY($1) ORDER BY 2`,
    [topicIds],
  );
  for (const r of rows) out.get(r.topic_id)!.push(r.app);
  return out;
}

export function topicOfRow(row: DbTopicWithOrgRow, publishGrants: string[]): Topic {
  return {
    org: row.org_slug,
    slug: row.slug,
    description: row.description,
    classification: row.classification,
    state: row.state,
    schemaHash: row.schema_hash,
    schema: row.schema,
    limits: normalisedLimits(row.limits),
    publishGrants,
    ...(row.review_note !== null ? { reviewNote: row.review_note } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited and compared form: the definition, without timestamps, state or grants. */
function definitionOf(
  t: Pick<Topic, 'org' | 'slug' | 'description' | 'classification' | 'schemaHash' | 'limits'>,
) {
  return {
    org: t.org,
    slug: t.slug,
    description: t.description,
    classification: t.classification,
    schemaHash: t.schemaHash,
    limits: t.limits,
  };
}

export async function findTopicRow(
  db: Sql,
  org: string,
  topic: string,
): Promise<DbTopicWithOrgRow | undefined> {
  const [row] = await db.query<DbTopicWithOrgRow>(`${TOPIC_SELECT} WHERE o.slug = $1 AND t.slug = $2`, [
    org,
    topic,
  ]);
  return row;
}

/** The topic as the caller may see it; one it may not see does not exist for it (404). */
export async function getVisibleTopicRow(
  db: Sql,
  principal: Principal,
  ref: TopicRef,
  options: { forUpdate?: boolean } = {},
): Promise<DbTopicWithOrgRow> {
  const [row] = await db.query<DbTopicWithOrgRow>(
    `${TOPIC_SELECT} WHERE o.slug = $3 AND t.slug = $4 AND ${TOPIC_VISIBLE}${options.forUpdate ? ' FOR UPDATE OF t' : ''}`,
    [principal.org, canReadAll(principal), ref.org, ref.topic],
  );
  if (!row) throw errors.SPL_NOT_FOUND(`no topic ${ref.org}/${ref.topic}`);
  return row;
}

export async function getVisibleTopic(db: Sql, principal: Principal, ref: TopicRef): Promise<Topic> {
  const row = await getVisibleTopicRow(db, principal, ref);
  return topicOfRow(row, (await publishGrantsOf(db, [row.id])).get(row.id)!);
}

/** Topics the caller may see, by organisation and slug. */
export async function listVisibleTopics(db: Sql, principal: Principal, query: TopicQuery): Promise<Topic[]> {
  const params: unknown[] = [principal.org, canReadAll(principal)];
  const where = [TOPIC_VISIBLE];
  if (query.org) {
    params.push(query.org);
    where.push(`o.slug = $${params.length}`);
  }
  if (query.state) {
    params.push(query.state);
    where.push(`t.state = $${params.length}`);
  }
  const rows = await db.query<DbTopicWithOrgRow>(
    `${TOPIC_SELECT} WHERE ${where.join(' AND ')} ORDER BY o.slug, t.slug`,
    params,
  );
  const grants = await publishGrantsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => topicOfRow(r, grants.get(r.id)!));
}

async function storeSchema(tx: Sql, schema: CheckedEventSchema, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO event_schemas (hash, schema, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING`,
    [schema.hash, JSON.stringify(schema.schema), now.toISOString()],
  );
}

/**
 * Registers a draft topic. The schema is checked before anything is written (a bad one is
 * SPL_INVALID_EVENT_SCHEMA and stores nothing). The caller has checked that the principal
 * acts for `org`.
 */
export async function createTopic(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  input: TopicInput,
  now: Date,
): Promise<Topic> {
  const schema = checkEventSchema(input.schema);
  const owner = await getOrganisationRow(tx, org);
  await storeSchema(tx, schema, now);
  const id = randomUUID();
  try {
    await tx.query(
      `INSERT INTO topics (id, org_id, slug, description, classification, schema_hash, limits, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $8)`,
      [
        id,
        owner.id,
        input.slug,
        input.description ?? '',
        input.classification,
        schema.hash,
        JSON.stringify(normalisedLimits(input.limits)),
        now.toISOString(),
      ],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.SPL_CONFLICT(`topic ${org}/${input.slug} already exists`);
    throw err;
  }
  const created = topicOfRow((await findTopicRow(tx, org, input.slug))!, []);
  await audit({
    action: 'topic.create',
    entityType: 'topic',
    entityId: `${org}/${input.slug}`,
    after: definitionOf(created),
  });
  return created;
}

/**
 * Writes the given fields over the topic unless nothing changes (then writes and records
 * nothing). Schema and classification change only in draft (SPL_IMMUTABLE after: they went
 * through review); description and limits at any time.
 */
export async function updateTopic(
  tx: Sql,
  audit: RecordAudit,
  ref: TopicRef,
  patch: TopicPatch,
  now: Date,
): Promise<{ topic: Topic; changed: boolean }> {
  const current = await findTopicRow(tx, ref.org, ref.topic);
  if (!current) throw errors.SPL_NOT_FOUND(`no topic ${ref.org}/${ref.topic}`);
  const schema = patch.schema !== undefined ? checkEventSchema(patch.schema) : null;
  const before = definitionOf(topicOfRow(current, []));
  const next = {
    ...before,
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.classification !== undefined ? { classification: patch.classification } : {}),
    ...(schema ? { schemaHash: schema.hash } : {}),
    // Limits given are merged over the current ones (apply gives them all, defaults filled in).
    ...(patch.limits !== undefined
      ? { limits: normalisedLimits({ ...before.limits, ...patch.limits }) }
      : {}),
  };
  const grants = (await publishGrantsOf(tx, [current.id])).get(current.id)!;
  if (canonicalJson(next) === canonicalJson(before))
    return { topic: topicOfRow(current, grants), changed: false };
  if (
    current.state !== 'draft' &&
    (next.schemaHash !== before.schemaHash || next.classification !== before.classification)
  )
    throw errors.SPL_IMMUTABLE(
      `topic ${ref.org}/${ref.topic} is ${current.state}; its schema and classification change only in draft (register a new topic)`,
    );
  if (schema) await storeSchema(tx, schema, now);
  await tx.query(
    `UPDATE topics SET description = $2, classification = $3, schema_hash = $4, limits = $5, updated_at = $6 WHERE id = $1`,
    [
      current.id,
      next.description,
      next.classification,
      next.schemaHash,
      JSON.stringify(next.limits),
      now.toISOString(),
    ],
  );
  const after = topicOfRow((await findTopicRow(tx, ref.org, ref.topic))!, grants);
  await audit({
    action: 'topic.update',
    entityType: 'topic',
    entityId: `${ref.org}/${ref.topic}`,
    before,
    after: definitionOf(after),
  });
  return { topic: after, changed: true };
}

/**
 * Moves a topic through the lifecycle, with the same gates and the same people as an API
 * version (DIGEST §9.3), recorded in `topic_transitions` and the audit trail.
 */
export async function transitionTopic(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  ref: TopicRef,
  request: TransitionInput,
  ctx: LifecycleContext,
): Promise<Topic> {
  const row = await getVisibleTopicRow(tx, principal, ref, { forUpdate: true });
  const name = `${ref.org}/${ref.topic}`;
  if (request.sunsetAt !== undefined)
    throw errors.SPL_VALIDATION('a topic has no sunset date; deprecate it and tell its subscribers', {
      extensions: { errors: [{ pointer: 'body:/sunsetAt', message: 'not for topics' }] },
    });
  const { rule, userId } = checkTransition(principal, `topic ${name}`, ref.org, row.state, request, ctx);
  const now = ctx.clock().toISOString();
  const reviewNote =
    rule.action === 'reject' ? request.reason!.trim() : rule.action === 'approve' ? null : row.review_note;
  await tx.query('UPDATE topics SET state = $2, review_note = $3, updated_at = $4 WHERE id = $1', [
    row.id,
    rule.to,
    reviewNote,
    now,
  ]);
  await tx.query(
    `INSERT INTO topic_transitions (id, topic_id, from_state, to_state, action, client_id, user_id, reason, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      randomUUID(),
      row.id,
      rule.from,
      rule.to,
      rule.action,
      principal.clientId,
      userId ?? null,
      request.reason ?? null,
      now,
    ],
  );
  await audit({
    action: `topic.${rule.action}`,
    entityType: 'topic',
    entityId: name,
    before: { state: rule.from },
    after: { state: rule.to, ...(request.reason ? { reason: request.reason } : {}) },
  });
  return getVisibleTopic(tx, principal, ref);
}

/** A topic's lifecycle history, oldest first. */
export async function listTopicTransitions(
  db: Sql,
  principal: Principal,
  ref: TopicRef,
): Promise<Transition[]> {
  const row = await getVisibleTopicRow(db, principal, ref);
  const rows = await db.query<{
    action: Transition['action'];
    from_state: VersionState;
    to_state: VersionState;
    client_id: string;
    user_id: string | null;
    reason: string | null;
    at: Date;
  }>('SELECT * FROM topic_transitions WHERE topic_id = $1 ORDER BY at, id', [row.id]);
  return rows.map((r) => ({
    action: r.action,
    from: r.from_state,
    to: r.to_state,
    clientId: r.client_id,
    ...(r.user_id ? { userId: r.user_id } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    at: new Date(r.at).toISOString(),
  }));
}

async function applicationIdOf(db: Sql, ref: string): Promise<string> {
  const [org, slug] = ref.split('/') as [string, string];
  const [app] = await db.query<{ id: string }>(
    'SELECT a.id FROM applications a JOIN organisations o ON o.id = a.org_id WHERE o.slug = $1 AND a.slug = $2',
    [org, slug],
  );
  if (!app) throw errors.SPL_NOT_FOUND(`no application ${ref}`);
  return app.id;
}

/**
 * Lets an application of another organisation publish to the topic (the owner's own
 * applications always may). Granting twice changes and records nothing.
 */
export async function grantPublish(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  ref: TopicRef,
  application: string,
  now: Date,
): Promise<{ topic: Topic; changed: boolean }> {
  assertActsForOrg(principal, ref.org, ['publisher']);
  const topic = await findTopicRow(tx, ref.org, ref.topic);
  if (!topic) throw errors.SPL_NOT_FOUND(`no topic ${ref.org}/${ref.topic}`);
  const appId = await applicationIdOf(tx, application);
  const inserted = await tx.query<{ topic_id: string }>(
    `INSERT INTO topic_publish_grants (topic_id, application_id, granted_by, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING topic_id`,
    [topic.id, appId, principal.clientId, now.toISOString()],
  );
  if (inserted.length)
    await audit({
      action: 'topic.grant-publish',
      entityType: 'topic',
      entityId: `${ref.org}/${ref.topic}`,
      after: { application },
    });
  const grants = (await publishGrantsOf(tx, [topic.id])).get(topic.id)!;
  return { topic: topicOfRow(topic, grants), changed: inserted.length > 0 };
}

export async function revokePublish(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  ref: TopicRef,
  application: string,
): Promise<Topic> {
  assertActsForOrg(principal, ref.org, ['publisher']);
  const topic = await findTopicRow(tx, ref.org, ref.topic);
  if (!topic) throw errors.SPL_NOT_FOUND(`no topic ${ref.org}/${ref.topic}`);
  const appId = await applicationIdOf(tx, application);
  const deleted = await tx.query<{ topic_id: string }>(
    'DELETE FROM topic_publish_grants WHERE topic_id = $1 AND application_id = $2 RETURNING topic_id',
    [topic.id, appId],
  );
  if (!deleted.length)
    throw errors.SPL_NOT_FOUND(`${application} holds no publish grant on ${ref.org}/${ref.topic}`);
  await audit({
    action: 'topic.revoke-publish',
    entityType: 'topic',
    entityId: `${ref.org}/${ref.topic}`,
    before: { application },
  });
  return topicOfRow(topic, (await publishGrantsOf(tx, [topic.id])).get(topic.id)!);
}

/** What `spl apply` gives for one topic. */
export interface TopicApplyInput extends TopicInput {
  org: string;
  publishGrants?: string[];
}

/**
 * Creates the topic or brings its definition to the input, idempotently; then adds the
 * publish grants the input lists and removes those it does not (when it lists any).
 * Lifecycle state is moved by the caller (the same gates as REST).
 */
export async function applyTopic(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: TopicApplyInput,
  now: Date,
): Promise<'created' | 'updated' | 'unchanged'> {
  assertActsForOrg(principal, input.org, ['publisher']);
  const { org, publishGrants, ...topic } = input;
  const ref = { org, topic: topic.slug };
  let result: 'created' | 'updated' | 'unchanged';
  const existing = await findTopicRow(tx, org, topic.slug);
  if (!existing) {
    await createTopic(tx, audit, org, topic, now);
    result = 'created';
  } else {
    const { changed } = await updateTopic(
      tx,
      audit,
      ref,
      {
        description: topic.description ?? '',
        classification: topic.classification,
        schema: topic.schema,
        limits: normalisedLimits(topic.limits),
      },
      now,
    );
    result = changed ? 'updated' : 'unchanged';
  }
  if (publishGrants) {
    const row = (await findTopicRow(tx, org, topic.slug))!;
    const held = (await publishGrantsOf(tx, [row.id])).get(row.id)!;
    for (const app of publishGrants.filter((a) => !held.includes(a))) {
      await grantPublish(tx, audit, principal, ref, app, now);
      if (result === 'unchanged') result = 'updated';
    }
    for (const app of held.filter((a) => !publishGrants.includes(a))) {
      await revokePublish(tx, audit, principal, ref, app);
      if (result === 'unchanged') result = 'updated';
    }
  }
  return result;
}
