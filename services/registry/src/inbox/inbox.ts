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

  return items.sort((a, b) => a.since.localeCompare(b.since) || a.path.localeCompare(b.path));
}
