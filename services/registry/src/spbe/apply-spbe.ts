import type { RecordAudit } from '../audit/mutations.js';
import { hasRole, type Principal } from '../auth/principal.js';
import type { ApplyReport } from '../declarative/apply-report.js';
import type { HubSpbe } from '../routes/spbe/schemas.js';
import type { Sql } from '../store/database.js';
import { listReviews, putReview } from './review-store.js';
import { listRoster, setRoster } from './roster-store.js';

/**
 * The hub document's `spbe` section (docs/declarative.md): the roster, when given, replaces
 * the declared one; each review is created or replaced by slug. Reviews not in the file are
 * kept (a file written before a review was recorded does not erase it). Operators only, as
 * over REST; for anyone else the section is reported as not checked.
 */
export async function applySpbeSection(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  spbe: HubSpbe,
  now: Date,
  report: ApplyReport,
): Promise<void> {
  const operator = hasRole(principal, 'operator');
  if (spbe.roster) {
    if (!operator)
      report.add('spbe_roster', 'roster', 'unchanged', 'not checked: only operators declare the roster');
    else {
      const { changed } = await setRoster(tx, audit, spbe.roster, now);
      report.add('spbe_roster', 'roster', changed ? 'updated' : 'unchanged');
    }
  }
  for (const { slug, ...review } of spbe.reviews ?? []) {
    if (!operator) {
      report.add('spbe_review', slug, 'unchanged', 'not checked: only operators record reviews');
      continue;
    }
    const { result } = await putReview(tx, audit, slug, review, now);
    report.add('spbe_review', slug, result);
  }
}

/** The `spbe` section of an export; undefined when no roster or review is recorded. */
export async function exportSpbeSection(db: Sql): Promise<HubSpbe | undefined> {
  const roster = (await listRoster(db)).organisations.map((o) => o.slug);
  const reviews = (await listReviews(db)).map((r) => ({
    slug: r.slug,
    reviewedOn: r.reviewedOn,
    scope: r.scope,
    ...(r.reviewer ? { reviewer: r.reviewer } : {}),
    findings: r.findings,
  }));
  if (roster.length === 0 && reviews.length === 0) return undefined;
  return { ...(roster.length ? { roster } : {}), ...(reviews.length ? { reviews } : {}) };
}
