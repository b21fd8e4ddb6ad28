import { randomBytes, randomUUID } from 'node:crypto';
import { isSplError } from '@spl/problem';
import type { SecretBox } from '@spl/secret-box';
import { webhookSecretContext } from '@spl/snapshot';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg } from '../auth/policy.js';
import { hasRole, type Principal } from '../auth/principal.js';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';
import type { Decision, DecisionInput, SubscriptionState } from '../routes/subscriptions/schemas.js';
import type {
  TopicSubscription,
  TopicSubscriptionInput,
  TopicSubscriptionQuery,
} from '../routes/topics/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';
import {
  type ApplySubscriptionOutcome,
  decisionRefusal,
  LIVE_STATES,
  pathTowards,
  TRANSITIONS,
} from '../subscriptions/subscription-store.js';
import { getVisibleTopicRow, PUBLIC_TOPIC_STATES } from './topic-store.js';
import { checkWebhookUrl } from './webhook-url.js';

/**
 * Subscriptions to event topics, with the topic owner's consent — the same states, the same
 * decisions and the same people as API subscriptions (subscriptions/subscription-store.ts
 * `TRANSITIONS`, `decisionRefusal`), plus what events need:
 *
 * - mode `push` (the broker POSTs to a webhook URL) or `pull` (the subscriber fetches);
 * - filters by CloudEvents `type` and `subject` prefix;
 * - a Standard Webhooks signing secret per push subscription (`whsec_` + base64 of 32
 *   random bytes), answered once at creation and at rotation, and stored sealed with
 *   SPL_MASTER_KEY under `webhookSecretContext(id)` — never hashed, as the broker must sign
 *   with it. A rotation leaves the previous secrets valid until `not_after` (overlap); the
 *   snapshot lists every secret not past it;
 * - a data plane may suspend a failing push subscription (`suspendFailingSubscription`),
 *   which the application's organisation sees in `spl inbox`.
 */

export const DEFAULT_WEBHOOK_OVERLAP_SECONDS = 86_400;

export interface TopicSubscriptionContext {
  config: Pick<RegistryConfig, 'SPL_MODE' | 'SPL_EGRESS_ALLOW'>;
  secretBox: SecretBox;
  clock: () => Date;
}

export interface DbTopicSubscriptionRow {
  id: string;
  application_id: string;
  topic_id: string;
  purpose: string;
  state: SubscriptionState;
  mode: 'push' | 'pull';
  push_url: string | null;
  types: string[] | null;
  subject_prefixes: string[] | null;
  requested_by: string;
  decided_by_user: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

type RowWithRefs = DbTopicSubscriptionRow & {
  app_org: string;
  app_slug: string;
  topic_org: string;
  topic_slug: string;
  topic_state: string;
  decider_username: string | null;
  decider_name: string | null;
  active_secrets: number;
};

/** `$1` is the time "now" for counting secrets that still sign. */
const SELECT = `
  SELECT s.*, ao.slug AS app_org, a.slug AS app_slug, tor.slug AS topic_org, t.slug AS topic_slug,
         t.state AS topic_state, u.username AS decider_username, u.name AS decider_name,
         (SELECT count(*)::int FROM webhook_secrets w
           WHERE w.subscription_id = s.id AND (w.not_after IS NULL OR w.not_after > $1)) AS active_secrets
    FROM topic_subscriptions s
    JOIN applications a ON a.id = s.application_id
    JOIN organisations ao ON ao.id = a.org_id
    JOIN topics t ON t.id = s.topic_id
    JOIN organisations tor ON tor.id = t.org_id
    LEFT JOIN users u ON u.id = s.decided_by_user`;

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function subscriptionOfRow(row: RowWithRefs): TopicSubscription {
  return {
    id: row.id,
    application: `${row.app_org}/${row.app_slug}`,
    topic: `${row.topic_org}/${row.topic_slug}`,
    purpose: row.purpose,
    state: row.state,
    mode: row.mode,
    ...(row.push_url ? { pushUrl: row.push_url } : {}),
    ...(row.types ? { types: row.types } : {}),
    ...(row.subject_prefixes ? { subjectPrefixes: row.subject_prefixes } : {}),
    requestedBy: row.requested_by,
    ...(row.decided_by_user && row.decider_username
      ? {
          decidedBy: {
            id: row.decided_by_user,
            username: row.decider_username,
            name: row.decider_name ?? '',
          },
        }
      : {}),
    ...(row.decided_by ? { decidedByClient: row.decided_by } : {}),
    ...(row.decided_at ? { decidedAt: new Date(row.decided_at).toISOString() } : {}),
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.mode === 'push' ? { activeSecrets: Number(row.active_secrets) } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited form: never a secret. */
function audited(s: TopicSubscription) {
  return {
    id: s.id,
    application: s.application,
    topic: s.topic,
    purpose: s.purpose,
    state: s.state,
    mode: s.mode,
    pushUrl: s.pushUrl ?? null,
    types: s.types ?? null,
    subjectPrefixes: s.subjectPrefixes ?? null,
    decidedBy: s.decidedBy?.username ?? s.decidedByClient ?? null,
    reason: s.reason ?? null,
  };
}

const orgOf = (ref: string) => ref.split('/')[0]!;

/** Operators and auditors see every one; others those of their organisation's applications and topics. */
function canSee(principal: Principal, s: { application: string; topic: string }): boolean {
  if (hasRole(principal, 'operator', 'auditor')) return true;
  return orgOf(s.application) === principal.org || orgOf(s.topic) === principal.org;
}

async function findRow(db: Sql, id: string, now: Date): Promise<RowWithRefs | undefined> {
  const [row] = await db.query<RowWithRefs>(`${SELECT} WHERE s.id = $2`, [now.toISOString(), id]);
  return row;
}

export async function listTopicSubscriptions(
  db: Sql,
  principal: Principal,
  query: TopicSubscriptionQuery,
  now: Date,
): Promise<TopicSubscription[]> {
  const params: unknown[] = [now.toISOString()];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (!hasRole(principal, 'operator', 'auditor')) {
    const org = param(principal.org);
    where.push(`(ao.slug = ${org} OR tor.slug = ${org})`);
  }
  if (query.state) where.push(`s.state = ${param(query.state)}`);
  if (query.topic) {
    const [org, slug] = query.topic.split('/');
    where.push(`tor.slug = ${param(org)} AND t.slug = ${param(slug)}`);
  }
  if (query.application) {
    const [org, slug] = query.application.split('/');
    where.push(`ao.slug = ${param(org)} AND a.slug = ${param(slug)}`);
  }
  const rows = await db.query<RowWithRefs>(
    `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.created_at, s.id`,
    params,
  );
  return rows.map(subscriptionOfRow);
}

export async function getTopicSubscription(
  db: Sql,
  principal: Principal,
  id: string,
  now: Date,
): Promise<TopicSubscription> {
  const row = await findRow(db, id, now);
  const sub = row ? subscriptionOfRow(row) : undefined;
  if (!sub || !canSee(principal, sub)) throw errors.SPL_NOT_FOUND(`no topic subscription ${id}`);
  return sub;
}

async function storeNewSecret(
  tx: Sql,
  secretBox: SecretBox,
  subscriptionId: string,
  now: Date,
): Promise<string> {
  const secret = generateWebhookSecret();
  await tx.query(
    'INSERT INTO webhook_secrets (id, subscription_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4)',
    [
      randomUUID(),
      subscriptionId,
      secretBox.seal(secret, webhookSecretContext(subscriptionId)),
      now.toISOString(),
    ],
  );
  return secret;
}

/**
 * An application asks for a published (or deprecated) topic, stating its purpose. A push
 * subscription's URL is checked and its signing secret made now: the answer carries it,
 * once; the store holds it sealed.
 */
export async function requestTopicSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: TopicSubscriptionInput,
  ctx: TopicSubscriptionContext,
): Promise<{ subscription: TopicSubscription; secret: string | null }> {
  const [appOrg, appSlug] = input.application.split('/') as [string, string];
  const [topicOrg, topicSlug] = input.topic.split('/') as [string, string];
  assertActsForOrg(principal, appOrg, ['consumer', 'publisher']);
  let pushUrl: string | null = null;
  if (input.mode === 'push') {
    if (!input.pushUrl)
      throw errors.SPL_VALIDATION('a push subscription needs pushUrl', {
        extensions: { errors: [{ pointer: 'body:/pushUrl', message: 'is required for mode push' }] },
      });
    pushUrl = checkWebhookUrl(input.pushUrl, ctx.config);
  } else if (input.pushUrl !== undefined)
    throw errors.SPL_VALIDATION('a pull subscription has no pushUrl', {
      extensions: { errors: [{ pointer: 'body:/pushUrl', message: 'only for mode push' }] },
    });
  const topic = await getVisibleTopicRow(tx, principal, { org: topicOrg, topic: topicSlug });
  // A draft or retired topic is answered like a missing one: it is not on offer.
  if (!PUBLIC_TOPIC_STATES.includes(topic.state))
    throw errors.SPL_NOT_FOUND(`no published topic ${input.topic}`);
  const [app] = await tx.query<{ id: string }>(
    'SELECT a.id FROM applications a JOIN organisations o ON o.id = a.org_id WHERE o.slug = $1 AND a.slug = $2',
    [appOrg, appSlug],
  );
  if (!app) throw errors.SPL_NOT_FOUND(`no application ${input.application}`);
  const now = ctx.clock();
  const id = randomUUID();
  try {
    await tx.query(
      `INSERT INTO topic_subscriptions (id, application_id, topic_id, purpose, state, mode, push_url, types,
                                        subject_prefixes, requested_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $10)`,
      [
        id,
        app.id,
        topic.id,
        input.purpose,
        input.mode,
        pushUrl,
        input.types ?? null,
        input.subjectPrefixes ?? null,
        principal.clientId,
        now.toISOString(),
      ],
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT(`${input.application} already has a live subscription to ${input.topic}`);
    throw err;
  }
  const secret = pushUrl ? await storeNewSecret(tx, ctx.secretBox, id, now) : null;
  const subscription = subscriptionOfRow((await findRow(tx, id, now))!);
  await audit({
    action: 'topic_subscription.request',
    entityType: 'topic_subscription',
    entityId: id,
    after: { ...audited(subscription), ...(secret ? { webhookSecretIssued: true } : {}) },
  });
  return { subscription, secret };
}

/** approve/reject/suspend/resume/revoke, by the same people as for an API subscription. */
export async function decideTopicSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  id: string,
  input: DecisionInput,
  now: Date,
): Promise<TopicSubscription> {
  const [locked] = await tx.query<{ id: string }>(
    'SELECT id FROM topic_subscriptions WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = locked ? await findRow(tx, id, now) : undefined;
  if (!row) throw errors.SPL_NOT_FOUND(`no topic subscription ${id}`);
  const before = subscriptionOfRow(row);
  if (!canSee(principal, before)) throw errors.SPL_NOT_FOUND(`no topic subscription ${id}`);
  const refusal = decisionRefusal(principal, input.decision, {
    api: before.topic,
    application: before.application,
  });
  if (refusal) throw refusal;
  const transition = TRANSITIONS[input.decision];
  if (!transition.from.includes(before.state))
    throw errors.SPL_INVALID_TRANSITION(
      `cannot ${input.decision} a ${before.state} subscription (only from ${transition.from.join(', ')})`,
    );
  if (input.decision === 'reject' && !input.reason)
    throw errors.SPL_VALIDATION('a rejection needs a reason', {
      extensions: { errors: [{ pointer: 'body:/reason', message: 'required to reject' }] },
    });
  if (transition.to === 'approved' && !PUBLIC_TOPIC_STATES.includes(row.topic_state as never))
    throw errors.SPL_CONFLICT(`${before.topic} is ${row.topic_state}; it cannot be granted`);
  return writeDecision(
    tx,
    audit,
    principal,
    before,
    input.decision,
    transition.to,
    input.reason ?? null,
    now,
  );
}

async function writeDecision(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  before: TopicSubscription,
  decision: Decision | 'suspend-failing',
  to: SubscriptionState,
  reason: string | null,
  now: Date,
): Promise<TopicSubscription> {
  await tx.query(
    `UPDATE topic_subscriptions SET state = $2, decided_by_user = $3, decided_by = $4, decided_at = $5, reason = $6,
            updated_at = $5 WHERE id = $1`,
    [before.id, to, principal.userId ?? null, principal.clientId, now.toISOString(), reason],
  );
  const after = subscriptionOfRow((await findRow(tx, before.id, now))!);
  await audit({
    action: `topic_subscription.${decision}`,
    entityType: 'topic_subscription',
    entityId: before.id,
    before: audited(before),
    after: audited(after),
  });
  return after;
}

/**
 * A data plane (the broker) suspends a push subscription whose endpoint keeps failing; the
 * reason is recorded and the application's organisation sees it in its inbox. Suspending
 * one that is already suspended changes and records nothing (the broker may say it twice).
 */
export async function suspendFailingSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  id: string,
  reason: string,
  now: Date,
): Promise<TopicSubscription> {
  const [locked] = await tx.query<{ id: string }>(
    'SELECT id FROM topic_subscriptions WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = locked ? await findRow(tx, id, now) : undefined;
  if (!row) throw errors.SPL_NOT_FOUND(`no topic subscription ${id}`);
  const before = subscriptionOfRow(row);
  if (before.state === 'suspended') return before;
  if (before.state !== 'approved')
    throw errors.SPL_INVALID_TRANSITION(
      `cannot suspend a ${before.state} subscription (only an approved one)`,
    );
  if (before.mode !== 'push')
    throw errors.SPL_CONFLICT(
      `subscription ${id} is pull; only push deliveries fail at the subscriber's end`,
    );
  return writeDecision(tx, audit, principal, before, 'suspend-failing', 'suspended', reason, now);
}

/**
 * Makes a new signing secret (answered once) and leaves the previous ones valid for
 * `overlapSeconds`, so the subscriber can switch without losing a delivery. The
 * application's organisation (consumers, publishers) or an operator rotates.
 */
export async function rotateWebhookSecret(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  id: string,
  overlapSeconds: number,
  ctx: Pick<TopicSubscriptionContext, 'secretBox' | 'clock'>,
): Promise<{ subscription: string; secret: string; previousNotAfter: string }> {
  const now = ctx.clock();
  const [locked] = await tx.query<{ id: string }>(
    'SELECT id FROM topic_subscriptions WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = locked ? await findRow(tx, id, now) : undefined;
  const sub = row ? subscriptionOfRow(row) : undefined;
  if (!sub || !canSee(principal, sub)) throw errors.SPL_NOT_FOUND(`no topic subscription ${id}`);
  assertActsForOrg(principal, orgOf(sub.application), ['consumer', 'publisher']);
  if (sub.mode !== 'push') throw errors.SPL_CONFLICT(`subscription ${id} is pull; it has no signing secret`);
  if (!LIVE_STATES.includes(sub.state))
    throw errors.SPL_CONFLICT(`subscription ${id} is ${sub.state}; its secrets are no longer used`);
  const notAfter = new Date(now.getTime() + overlapSeconds * 1000).toISOString();
  await tx.query(
    `UPDATE webhook_secrets SET not_after = $2
      WHERE subscription_id = $1 AND (not_after IS NULL OR not_after > $2)`,
    [id, notAfter],
  );
  const secret = await storeNewSecret(tx, ctx.secretBox, id, now);
  await audit({
    action: 'topic_subscription.rotate-secret',
    entityType: 'topic_subscription',
    entityId: id,
    after: { overlapSeconds, previousNotAfter: notAfter },
  });
  return { subscription: id, secret, previousNotAfter: notAfter };
}

/** What `spl apply` says about one topic subscription; `state` is where it should end up. */
export type ApplyTopicSubscriptionInput = TopicSubscriptionInput & {
  state?: 'pending' | 'approved' | 'suspended' | 'revoked';
};

/**
 * Declarative apply, as for API subscriptions: requests the subscription when none is live
 * (a push secret made here is handed back once), then moves it towards the desired state
 * only as far as the caller's roles allow. Mode, URL and filters of a live subscription are
 * not changed by apply (ask anew: the owner consented to what was asked).
 */
export async function applyTopicSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: ApplyTopicSubscriptionInput,
  ctx: TopicSubscriptionContext,
): Promise<
  ApplySubscriptionOutcome & { topicSubscription: TopicSubscription | null; secret: string | null }
> {
  const desired = input.state ?? 'approved';
  const now = ctx.clock();
  const { state: _desired, ...request } = input;
  const [appOrg, appSlug] = input.application.split('/') as [string, string];
  const [topicOrg, topicSlug] = input.topic.split('/') as [string, string];
  const [latest] = await tx.query<{
    id: string;
    state: SubscriptionState;
    purpose: string;
    reason: string | null;
  }>(
    `SELECT s.id, s.state, s.purpose, s.reason FROM topic_subscriptions s
       JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
       JOIN topics t ON t.id = s.topic_id JOIN organisations tor ON tor.id = t.org_id
      WHERE ao.slug = $1 AND a.slug = $2 AND tor.slug = $3 AND t.slug = $4
      ORDER BY s.created_at DESC, s.id LIMIT 1`,
    [appOrg, appSlug, topicOrg, topicSlug],
  );
  const did: ApplySubscriptionOutcome['did'] = [];
  let secret: string | null = null;
  let current: TopicSubscription;
  const none = { subscription: null, topicSubscription: null, secret: null };
  if (latest && LIVE_STATES.includes(latest.state)) {
    // One the applier may not see is refused like one it may not ask for: the same answer
    // whether it exists or not, so apply reveals nothing (and the rest of the file applies).
    try {
      current = await getTopicSubscription(tx, principal, latest.id, now);
    } catch (err) {
      if (isSplError(err) && err.code === 'SPL_NOT_FOUND')
        throw errors.SPL_FORBIDDEN(
          `the subscription of ${input.application} to ${input.topic} is not yours to apply`,
        );
      throw err;
    }
  } else {
    if (desired === 'revoked') return { result: 'unchanged', did, ...none };
    if (latest && latest.purpose === input.purpose)
      return {
        result: 'refused',
        did,
        ...none,
        pending: `the request was ${latest.state}${latest.reason ? ` (${latest.reason})` : ''}; state a new purpose to ask again`,
      };
    const created = await requestTopicSubscription(tx, audit, principal, request, ctx);
    current = created.subscription;
    secret = created.secret;
    did.push('request');
  }
  for (const decision of pathTowards(current.state, desired)) {
    const refusal = decisionRefusal(principal, decision, {
      api: current.topic,
      application: current.application,
    });
    if (refusal)
      return {
        result: did.length ? 'created' : 'pending',
        subscription: null,
        topicSubscription: current,
        secret,
        did,
        pending: `${current.state}, waiting to ${decision}: ${refusal.message}`,
      };
    current = await decideTopicSubscription(
      tx,
      audit,
      principal,
      current.id,
      { decision, reason: 'declarative apply' },
      now,
    );
    did.push(decision);
  }
  const result = did.length === 0 ? 'unchanged' : did[0] === 'request' ? 'created' : 'transitioned';
  return { result, subscription: null, topicSubscription: current, secret, did };
}
