import { hasRole, type Principal, type Role } from '../auth/principal.js';
import type { InboxItem } from '../routes/inbox/schemas.js';
import type { Sql } from '../store/database.js';

/** How far back rejected subscription requests are shown, days. */
export const REJECTED_WINDOW_DAYS = 30;

interface VersionRow {
  org: string;
  api: string;
  version: string;
  review_note: string | null;
  since: Date;
}

/** Versions in `state`, optionally of one organisation, with when they reached it. */
async function versionsIn(db: Sql, state: string, org?: string): Promise<VersionRow[]> {
  return db.query<VersionRow>(
    `SELECT o.slug AS org, p.slug AS api, v.version, v.review_note,
            coalesce((SELECT max(t.at) FROM version_transitions t WHERE t.version_id = v.id AND t.to_state = v.state),
                     v.updated_at) AS since
       FROM api_versions v JOIN apis p ON p.id = v.api_id JOIN organisations o ON o.id = p.org_id
      WHERE v.state = $1 ${org ? 'AND o.slug = $2' : ''}`,
    org ? [state, org] : [state],
  );
}

const versionPath = (v: VersionRow) => `/v1/apis/${v.org}/${v.api}/versions/${v.version}`;
const iso = (d: Date) => new Date(d).toISOString();

/**
 * What waits on the caller (`spl inbox`): reviews its roles grant (which role grants which
 * kelaikan is deployment configuration, DIGEST §8.1), versions of its organisation ready to
 * publish, consent requests to its organisation's APIs, and its organisation's refusals.
 * Oldest first: what has waited longest comes first.
 */
export async function inboxOf(
  db: Sql,
  principal: Principal,
  approvers: { kelaikanOperasi: Role; kelaikanKeamanan: Role },
  now: Date,
): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  const isPublisher = hasRole(principal, 'publisher');

  if (hasRole(principal, approvers.kelaikanOperasi))
    for (const v of await versionsIn(db, 'submitted'))
      items.push({
        kind: 'review-kelaikan-operasi',
        summary: `${v.org}/${v.api} ${v.version} was submitted and waits for kelaikan operasi`,
        path: versionPath(v),
        since: iso(v.since),
      });
  if (hasRole(principal, approvers.kelaikanKeamanan))
    for (const v of await versionsIn(db, 'kelaikan_operasi'))
      items.push({
        kind: 'review-kelaikan-keamanan',
        summary: `${v.org}/${v.api} ${v.version} has kelaikan operasi and waits for kelaikan keamanan`,
        path: versionPath(v),
        since: iso(v.since),
      });
  if (isPublisher) {
    for (const v of await versionsIn(db, 'kelaikan_keamanan', principal.org))
      items.push({
        kind: 'publish-version',
        summary: `${v.org}/${v.api} ${v.version} has kelaikan operasi and keamanan and can be published`,
        path: versionPath(v),
        since: iso(v.since),
      });
    for (const v of await versionsIn(db, 'draft', principal.org))
      if (v.review_note)
        items.push({
          kind: 'version-returned',
          summary: `${v.org}/${v.api} ${v.version} was sent back to draft: ${v.review_note}`,
          path: versionPath(v),
          since: iso(v.since),
        });
  }

  const isOperator = hasRole(principal, 'operator');
  if (isOperator || isPublisher) {
    const pending = await db.query<{
      id: string;
      app: string;
      api: string;
      version: string;
      purpose: string;
      created_at: Date;
    }>(
      `SELECT s.id, ao.slug || '/' || a.slug AS app, po.slug || '/' || p.slug AS api, v.version, s.purpose, s.created_at
         FROM subscriptions s
         JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
         JOIN api_versions v ON v.id = s.version_id JOIN apis p ON p.id = v.api_id
         JOIN organisations po ON po.id = p.org_id
        WHERE s.state = 'pending' ${isOperator ? '' : 'AND po.slug = $1'}`,
      isOperator ? [] : [principal.org],
    );
    for (const s of pending)
      items.push({
        kind: 'consent-subscription',
        summary: `${s.app} asks for ${s.api} ${s.version}: ${s.purpose}`,
        path: `/v1/subscriptions/${s.id}`,
        since: iso(s.created_at),
      });
  }

  if (hasRole(principal, 'consumer', 'publisher')) {
    const cutoff = new Date(now.getTime() - REJECTED_WINDOW_DAYS * 86_400_000);
    const rejected = await db.query<{
      id: string;
      app: string;
      api: string;
      version: string;
      reason: string | null;
      decided_at: Date;
    }>(
      `SELECT s.id, ao.slug || '/' || a.slug AS app, po.slug || '/' || p.slug AS api, v.version, s.reason, s.decided_at
         FROM subscriptions s
         JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
         JOIN api_versions v ON v.id = s.version_id JOIN apis p ON p.id = v.api_id
         JOIN organisations po ON po.id = p.org_id
        WHERE s.state = 'rejected' AND ao.slug = $1 AND s.decided_at >= $2`,
      [principal.org, cutoff.toISOString()],
    );
    for (const s of rejected)
      items.push({
        kind: 'subscription-rejected',
        summary: `${s.api} ${s.version} refused ${s.app}${s.reason ? `: ${s.reason}` : ''}`,
        path: `/v1/subscriptions/${s.id}`,
        since: iso(s.decided_at),
      });
  }

  for (const item of await topicItems(db, principal, approvers, now)) items.push(item);
  return items.sort((a, b) => a.since.localeCompare(b.since) || a.path.localeCompare(b.path));
}

interface TopicRow {
  org: string;
  topic: string;
  review_note: string | null;
  since: Date;
}

async function topicsIn(db: Sql, state: string, org?: string): Promise<TopicRow[]> {
  return db.query<TopicRow>(
    `SELECT o.slug AS org, t.slug AS topic, t.review_note,
            coalesce((SELECT max(x.at) FROM topic_transitions x WHERE x.topic_id = t.id AND x.to_state = t.state),
                     t.updated_at) AS since
       FROM topics t JOIN organisations o ON o.id = t.org_id
      WHERE t.state = $1 ${org ? 'AND o.slug = $2' : ''}`,
    org ? [state, org] : [state],
  );
}

/** The same for event topics: reviews, publishing, consent, and suspensions of the caller's subscriptions. */
async function topicItems(
  db: Sql,
  principal: Principal,
  approvers: { kelaikanOperasi: Role; kelaikanKeamanan: Role },
  now: Date,
): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  const path = (t: TopicRow) => `/v1/topics/${t.org}/${t.topic}`;
  if (hasRole(principal, approvers.kelaikanOperasi))
    for (const t of await topicsIn(db, 'submitted'))
      items.push({
        kind: 'review-kelaikan-operasi',
        summary: `topic ${t.org}/${t.topic} was submitted and waits for kelaikan operasi`,
        path: path(t),
        since: iso(t.since),
      });
  if (hasRole(principal, approvers.kelaikanKeamanan))
    for (const t of await topicsIn(db, 'kelaikan_operasi'))
      items.push({
        kind: 'review-kelaikan-keamanan',
        summary: `topic ${t.org}/${t.topic} has kelaikan operasi and waits for kelaikan keamanan`,
        path: path(t),
        since: iso(t.since),
      });
  const isOperator = hasRole(principal, 'operator');
  const isPublisher = hasRole(principal, 'publisher');
  if (isPublisher) {
    for (const t of await topicsIn(db, 'kelaikan_keamanan', principal.org))
      items.push({
        kind: 'publish-topic',
        summary: `topic ${t.org}/${t.topic} has kelaikan operasi and keamanan and can be published`,
        path: path(t),
        since: iso(t.since),
      });
    for (const t of await topicsIn(db, 'draft', principal.org))
      if (t.review_note)
        items.push({
          kind: 'topic-returned',
          summary: `topic ${t.org}/${t.topic} was sent back to draft: ${t.review_note}`,
          path: path(t),
          since: iso(t.since),
        });
  }

  const SUBS = `SELECT s.id, ao.slug || '/' || a.slug AS app, tor.slug || '/' || t.slug AS topic, s.purpose,
                       s.reason, s.decided_by, s.created_at, s.decided_at
                  FROM topic_subscriptions s
                  JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
                  JOIN topics t ON t.id = s.topic_id JOIN organisations tor ON tor.id = t.org_id`;
  type SubRow = {
    id: string;
    app: string;
    topic: string;
    purpose: string;
    reason: string | null;
    decided_by: string | null;
    created_at: Date;
    decided_at: Date | null;
  };
  const subPath = (s: SubRow) => `/v1/topic-subscriptions/${s.id}`;
  if (isOperator || isPublisher)
    for (const s of await db.query<SubRow>(
      `${SUBS} WHERE s.state = 'pending' ${isOperator ? '' : 'AND tor.slug = $1'}`,
      isOperator ? [] : [principal.org],
    ))
      items.push({
        kind: 'consent-topic-subscription',
        summary: `${s.app} asks for the events of ${s.topic}: ${s.purpose}`,
        path: subPath(s),
        since: iso(s.created_at),
      });
  if (hasRole(principal, 'consumer', 'publisher')) {
    for (const s of await db.query<SubRow>(`${SUBS} WHERE s.state = 'suspended' AND ao.slug = $1`, [
      principal.org,
    ]))
      items.push({
        kind: 'topic-subscription-suspended',
        summary: `the subscription of ${s.app} to ${s.topic} was suspended${s.decided_by ? ` by ${s.decided_by}` : ''}${
          s.reason ? `: ${s.reason}` : ''
        }`,
        path: subPath(s),
        since: iso(s.decided_at ?? s.created_at),
      });
    const cutoff = new Date(now.getTime() - REJECTED_WINDOW_DAYS * 86_400_000);
    for (const s of await db.query<SubRow>(
      `${SUBS} WHERE s.state = 'rejected' AND ao.slug = $1 AND s.decided_at >= $2`,
      [principal.org, cutoff.toISOString()],
    ))
      items.push({
        kind: 'topic-subscription-rejected',
        summary: `${s.topic} refused ${s.app}${s.reason ? `: ${s.reason}` : ''}`,
        path: subPath(s),
        since: iso(s.decided_at ?? s.created_at),
      });
  }
  return items;
}
