import { randomUUID } from 'node:crypto';
import { isSplError, type SplError } from '@spl/problem';
import { getVisibleApiRow } from '../apis/api-store.js';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg } from '../auth/policy.js';
import { hasRole, type Principal } from '../auth/principal.js';
import { errors } from '../errors.js';
import type {
  Decision,
  DecisionInput,
  Subscription,
  SubscriptionInput,
  SubscriptionQuery,
  SubscriptionState,
} from '../routes/subscriptions/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

/**
 * Data-owner consent (DIGEST §3; BKT 20(2), BTM 16(2), MUE 16(2)): an application asks for
 * an API version with a purpose; the API's owning organisation decides.
 *
 *   pending ──approve──► approved ──suspend──► suspended
 *      │                   ▲  │                  │
 *      │                   │  └────resume◄───────┘
 *      ├──reject──► rejected        (approved/suspended/pending) ──revoke──► revoked
 *
 * Rejected and revoked rows stay as history; a new request makes a new row.
 */
export const TRANSITIONS: Record<Decision, { from: readonly SubscriptionState[]; to: SubscriptionState }> = {
  approve: { from: ['pending'], to: 'approved' },
  reject: { from: ['pending'], to: 'rejected' },
  suspend: { from: ['approved'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'approved' },
  revoke: { from: ['pending', 'approved', 'suspended'], to: 'revoked' },
};

/** Decisions that are the owner's consent itself: a named person's act. */
export const CONSENT_DECISIONS: readonly Decision[] = ['approve', 'reject', 'resume'];
/** Version states that can be subscribed to and reached through the gateway. */
const SUBSCRIBABLE_VERSION_STATES = ['published', 'deprecated'];
export const LIVE_STATES: readonly SubscriptionState[] = ['pending', 'approved', 'suspended'];

export interface DbSubscriptionRow {
  id: string;
  application_id: string;
  version_id: string;
  purpose: string;
  state: SubscriptionState;
  requested_by: string;
  decided_by_user: string | null;
  decided_at: Date | null;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

type SubscriptionRowWithRefs = DbSubscriptionRow & {
  app_org: string;
  app_slug: string;
  api_org: string;
  api_slug: string;
  version: string;
  version_state: string;
  decider_username: string | null;
  decider_name: string | null;
};

const SUBSCRIPTION_SELECT = `
  SELECT s.*, ao.slug AS app_org, a.slug AS app_slug, po.slug AS api_org, p.slug AS api_slug,
         v.version, v.state AS version_state, u.username AS decider_username, u.name AS decider_name
    FROM subscriptions s
    JOIN applications a ON a.id = s.application_id
    JOIN organisations ao ON ao.id = a.org_id
    JOIN api_versions v ON v.id = s.version_id
    JOIN apis p ON p.id = v.api_id
    JOIN organisations po ON po.id = p.org_id
    LEFT JOIN users u ON u.id = s.decided_by_user`;

export function subscriptionOfRow(row: SubscriptionRowWithRefs): Subscription {
  return {
    id: row.id,
    application: `${row.app_org}/${row.app_slug}`,
    api: `${row.api_org}/${row.api_slug}`,
    version: row.version,
    purpose: row.purpose,
    state: row.state,
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
    ...(row.decided_at ? { decidedAt: new Date(row.decided_at).toISOString() } : {}),
    ...(row.reason ? { reason: row.reason } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function splitRef(ref: string): [string, string] {
  const [org, slug] = ref.split('/') as [string, string];
  return [org, slug];
}

/** Operators and auditors see every subscription; others those of their org's applications and APIs. */
export function canSeeSubscription(principal: Principal, s: { application: string; api: string }): boolean {
  if (hasRole(principal, 'operator', 'auditor')) return true;
  return splitRef(s.application)[0] === principal.org || splitRef(s.api)[0] === principal.org;
}

export async function listSubscriptions(
  db: Sql,
  principal: Principal,
  query: SubscriptionQuery,
): Promise<Subscription[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (!hasRole(principal, 'operator', 'auditor')) {
    const org = param(principal.org);
    where.push(`(ao.slug = ${org} OR po.slug = ${org})`);
  }
  if (query.state) where.push(`s.state = ${param(query.state)}`);
  if (query.api) {
    const [org, slug] = splitRef(query.api);
    where.push(`po.slug = ${param(org)} AND p.slug = ${param(slug)}`);
  }
  if (query.application) {
    const [org, slug] = splitRef(query.application);
    where.push(`ao.slug = ${param(org)} AND a.slug = ${param(slug)}`);
  }
  const rows = await db.query<SubscriptionRowWithRefs>(
    `${SUBSCRIPTION_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.created_at, s.id`,
    params,
  );
  return rows.map(subscriptionOfRow);
}

async function findSubscriptionRow(db: Sql, id: string): Promise<SubscriptionRowWithRefs | undefined> {
  const [row] = await db.query<SubscriptionRowWithRefs>(`${SUBSCRIPTION_SELECT} WHERE s.id = $1`, [id]);
  return row;
}

/** A subscription the caller may see; one it may not is answered as absent. */
export async function getSubscription(db: Sql, principal: Principal, id: string): Promise<Subscription> {
  return getVisibleSubscription(db, principal, id);
}

async function getVisibleSubscription(db: Sql, principal: Principal, id: string): Promise<Subscription> {
  const row = await findSubscriptionRow(db, id);
  const sub = row ? subscriptionOfRow(row) : undefined;
  if (!sub || !canSeeSubscription(principal, sub)) throw errors.SPL_NOT_FOUND(`no subscription ${id}`);
  return sub;
}

function audited(s: Subscription) {
  return {
    id: s.id,
    application: s.application,
    api: s.api,
    version: s.version,
    purpose: s.purpose,
    state: s.state,
    decidedBy: s.decidedBy?.username ?? null,
    reason: s.reason ?? null,
  };
}

/** An application asks for an API version (published or deprecated), stating its purpose. */
export async function requestSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: SubscriptionInput,
  now: Date,
): Promise<Subscription> {
  const [appOrg, appSlug] = splitRef(input.application);
  const [apiOrg, apiSlug] = splitRef(input.api);
  assertActsForOrg(principal, appOrg, ['consumer', 'publisher']);
  // A dikecualikan API the caller may not see is answered as missing.
  await getVisibleApiRow(tx, principal, apiOrg, apiSlug);
  const [app] = await tx.query<{ id: string }>(
    `SELECT a.id FROM applications a JOIN organisations o ON o.id = a.org_id WHERE o.slug = $1 AND a.slug = $2`,
    [appOrg, appSlug],
  );
  if (!app) throw errors.SPL_NOT_FOUND(`no application ${input.application}`);
  const [version] = await tx.query<{ id: string }>(
    `SELECT v.id FROM api_versions v JOIN apis p ON p.id = v.api_id JOIN organisations o ON o.id = p.org_id
      WHERE o.slug = $1 AND p.slug = $2 AND v.version = $3 AND v.state = ANY($4)`,
    [apiOrg, apiSlug, input.version, SUBSCRIBABLE_VERSION_STATES],
  );
  // A draft or retired version is answered like a missing one: it is not on offer.
  if (!version) throw errors.SPL_NOT_FOUND(`no published version ${input.version} of ${input.api}`);
  const [live] = await tx.query<{ id: string; state: string }>(
    'SELECT id, state FROM subscriptions WHERE application_id = $1 AND version_id = $2 AND state = ANY($3)',
    [app.id, version.id, LIVE_STATES],
  );
  if (live)
    throw errors.SPL_CONFLICT(
      `${input.application} already has a ${live.state} subscription ${live.id} to ${input.api} ${input.version}`,
    );
  const id = randomUUID();
  try {
    await tx.query(
      `INSERT INTO subscriptions (id, application_id, version_id, purpose, state, requested_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6)`,
      [id, app.id, version.id, input.purpose, principal.clientId, now.toISOString()],
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT(
        `${input.application} already has a live subscription to ${input.api} ${input.version}`,
      );
    throw err;
  }
  const created = subscriptionOfRow((await findSubscriptionRow(tx, id))!);
  await audit({
    action: 'subscription.request',
    entityType: 'subscription',
    entityId: id,
    after: audited(created),
  });
  return created;
}

/**
 * Who may make a decision, or the error saying why not (null: allowed).
 * approve/reject/resume are the owner's consent: a person who is a publisher of the API's
 * organisation, or an operator person. suspend: owner publisher or operator. revoke: those,
 * or the application's own organisation withdrawing its access.
 */
export function decisionRefusal(
  principal: Principal,
  decision: Decision,
  s: Pick<Subscription, 'api' | 'application'>,
): SplError | null {
  const [apiOrg] = splitRef(s.api);
  const [appOrg] = splitRef(s.application);
  const isOwner =
    hasRole(principal, 'operator') || (principal.org === apiOrg && hasRole(principal, 'publisher'));
  const isApplicant = principal.org === appOrg && hasRole(principal, 'consumer', 'publisher');
  if (decision === 'revoke' ? !(isOwner || isApplicant) : !isOwner)
    return errors.SPL_FORBIDDEN(
      `${decision} of a subscription to ${s.api} needs a publisher of ${apiOrg} or an operator${
        decision === 'revoke' ? `, or a consumer or publisher of ${appOrg}` : ''
      }`,
    );
  if (CONSENT_DECISIONS.includes(decision) && !principal.userId)
    return errors.SPL_PERSON_REQUIRED(
      `${decision} is the data owner's consent; it must be given by a named person, not by ${principal.clientId}`,
    );
  return null;
}

/** Shared by `POST /v1/subscriptions/:id/decision` and `spl apply`. */
export async function decideSubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  id: string,
  input: DecisionInput,
  now: Date,
): Promise<Subscription> {
  // Lock the row: two reviewers deciding at once get one transition each, in order.
  const [locked] = await tx.query<{ id: string }>('SELECT id FROM subscriptions WHERE id = $1 FOR UPDATE', [
    id,
  ]);
  const row = locked ? await findSubscriptionRow(tx, id) : undefined;
  if (!row) throw errors.SPL_NOT_FOUND(`no subscription ${id}`);
  const before = subscriptionOfRow(row);
  // One the caller may not see is answered as missing, as GET answers it.
  if (!canSeeSubscription(principal, before)) throw errors.SPL_NOT_FOUND(`no subscription ${id}`);
  const refusal = decisionRefusal(principal, input.decision, before);
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
  if (transition.to === 'approved' && !SUBSCRIBABLE_VERSION_STATES.includes(row.version_state))
    throw errors.SPL_CONFLICT(
      `${before.api} ${before.version} is ${row.version_state}; it cannot be granted`,
    );
  await tx.query(
    `UPDATE subscriptions SET state = $2, decided_by_user = $3, decided_at = $4, reason = $5, updated_at = $4
      WHERE id = $1`,
    [id, transition.to, principal.userId ?? null, now.toISOString(), input.reason ?? null],
  );
  const after = subscriptionOfRow((await findSubscriptionRow(tx, id))!);
  await audit({
    action: `subscription.${input.decision}`,
    entityType: 'subscription',
    entityId: id,
    before: audited(before),
    after: audited(after),
  });
  return after;
}

/** What `spl apply` says about one subscription; `state` is where it should end up (default approved). */
export type ApplySubscriptionInput = SubscriptionInput & {
  state?: 'pending' | 'approved' | 'suspended' | 'revoked';
};

export interface ApplySubscriptionOutcome {
  result: 'created' | 'transitioned' | 'unchanged' | 'pending' | 'refused';
  subscription: Subscription | null;
  /** What this apply did, in order: `request`, then decisions. */
  did: ('request' | Decision)[];
  /** Why the desired state is not reached yet (e.g. waiting for the owner's consent). */
  pending?: string;
}

/** The decisions that lead from `state` towards `desired`, in order. */
export function pathTowards(
  state: SubscriptionState,
  desired: NonNullable<ApplySubscriptionInput['state']>,
): Decision[] {
  if (desired === 'pending' || state === desired) return [];
  if (desired === 'revoked') return ['revoke'];
  if (desired === 'approved')
    return state === 'pending' ? ['approve'] : state === 'suspended' ? ['resume'] : [];
  // desired suspended
  return state === 'pending' ? ['approve', 'suspend'] : state === 'approved' ? ['suspend'] : [];
}

/**
 * Declarative apply: requests the subscription when none is live, then moves it towards the
 * desired state only as far as the caller's own roles allow — apply is no way around the
 * owner's consent. Idempotent: a second identical apply does and records nothing.
 */
export async function applySubscription(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: ApplySubscriptionInput,
  ctx: { clock: () => Date },
): Promise<ApplySubscriptionOutcome> {
  const desired = input.state ?? 'approved';
  const now = ctx.clock();
  const { state: _desired, ...request } = input;
  const [appOrg, appSlug] = splitRef(input.application);
  const [apiOrg, apiSlug] = splitRef(input.api);
  const history = await tx.query<{
    id: string;
    state: SubscriptionState;
    purpose: string;
    reason: string | null;
  }>(
    `SELECT s.id, s.state, s.purpose, s.reason FROM subscriptions s
       JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
       JOIN api_versions v ON v.id = s.version_id JOIN apis p ON p.id = v.api_id
       JOIN organisations po ON po.id = p.org_id
      WHERE ao.slug = $1 AND a.slug = $2 AND po.slug = $3 AND p.slug = $4 AND v.version = $5
      ORDER BY s.created_at DESC, s.id LIMIT 1`,
    [appOrg, appSlug, apiOrg, apiSlug, input.version],
  );
  const latest = history[0];
  const did: ApplySubscriptionOutcome['did'] = [];
  // A subscription the applier may not see is refused like one it may not ask for — the
  // same answer whether it exists or not, so apply reveals nothing (and the rest applies).
  const getSubscription = async (_db: Sql, p: Principal, id: string) => {
    try {
      return await getVisibleSubscription(tx, p, id);
    } catch (err) {
      if (isSplError(err) && err.code === 'SPL_NOT_FOUND')
        throw errors.SPL_FORBIDDEN(
          `the subscription of ${input.application} to ${input.api} ${input.version} is not yours to apply`,
        );
      throw err;
    }
  };
  let current: Subscription;
  if (latest && LIVE_STATES.includes(latest.state)) {
    current = (await getSubscription(tx, principal, latest.id)) as Subscription;
  } else {
    if (desired === 'revoked')
      return {
        result: 'unchanged',
        subscription: latest ? await getSubscription(tx, principal, latest.id) : null,
        did,
      };
    // The owner said no to this very purpose: asking again on every apply would be nagging.
    if (latest && latest.purpose === input.purpose)
      return {
        result: 'refused',
        subscription: await getSubscription(tx, principal, latest.id),
        did,
        pending: `the request was ${latest.state}${latest.reason ? ` (${latest.reason})` : ''}; state a new purpose to ask again`,
      };
    current = await requestSubscription(tx, audit, principal, request, now);
    did.push('request');
  }
  for (const decision of pathTowards(current.state, desired)) {
    const refusal = decisionRefusal(principal, decision, current);
    if (refusal)
      return {
        result: did.length ? (did[0] === 'request' ? 'created' : 'transitioned') : 'pending',
        subscription: current,
        did,
        pending: `${current.state}, waiting to ${decision}: ${refusal.message}`,
      };
    current = await decideSubscription(
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
  return { result, subscription: current, did };
}
