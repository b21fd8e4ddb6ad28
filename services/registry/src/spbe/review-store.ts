import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import type { Review, ReviewInput } from '../routes/spbe/schemas.js';
import type { Sql } from '../store/database.js';

export interface DbReviewRow {
  id: string;
  slug: string;
  /** YYYY-MM-DD (read with to_char: pg would make a local-midnight Date of a `date`). */
  reviewed_on: string;
  scope: string;
  reviewer: string;
  findings: Review['findings'];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, slug, to_char(reviewed_on, 'YYYY-MM-DD') AS reviewed_on, scope, reviewer, findings,
  created_at, updated_at`;

export function reviewOfRow(row: DbReviewRow): Review {
  return {
    slug: row.slug,
    reviewedOn: row.reviewed_on,
    scope: row.scope,
    reviewer: row.reviewer,
    findings: row.findings,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited (and compared) form of a review: everything but timestamps. */
function audited(r: Pick<Review, 'slug' | 'reviewedOn' | 'scope' | 'reviewer' | 'findings'>) {
  return {
    slug: r.slug,
    reviewedOn: r.reviewedOn,
    scope: r.scope,
    reviewer: r.reviewer,
    findings: r.findings,
  };
}

/** Findings with every optional list present, so a stored review compares equal to its input. */
function normaliseFindings(input: ReviewInput): Review['findings'] {
  const findings = (input.findings ?? []).map((f) => ({
    code: f.code,
    description: f.description,
    actions: (f.actions ?? []).map((a) => ({
      code: a.code,
      description: a.description,
      status: a.status,
      ...(a.dueOn ? { dueOn: a.dueOn } : {}),
    })),
  }));
  const codes = findings.map((f) => f.code);
  const dup = codes.find((c, i) => codes.indexOf(c) !== i);
  if (dup) throw errors.SPL_VALIDATION(`finding ${dup} appears twice`);
  for (const f of findings) {
    const actionCodes = f.actions.map((a) => a.code);
    const dupAction = actionCodes.find((c, i) => actionCodes.indexOf(c) !== i);
    if (dupAction) throw errors.SPL_VALIDATION(`action ${dupAction} appears twice in finding ${f.code}`);
  }
  return findings;
}

/** Reviews, latest first. */
export async function listReviews(db: Sql): Promise<Review[]> {
  const rows = await db.query<DbReviewRow>(
    `SELECT ${COLUMNS} FROM spbe_reviews ORDER BY reviewed_on DESC, slug`,
  );
  return rows.map(reviewOfRow);
}

export async function getReview(db: Sql, slug: string): Promise<Review> {
  const [row] = await db.query<DbReviewRow>(`SELECT ${COLUMNS} FROM spbe_reviews WHERE slug = $1`, [slug]);
  if (!row) throw errors.SPL_NOT_FOUND(`no review ${slug}`);
  return reviewOfRow(row);
}

/**
 * Creates the review `slug` or replaces it with `input` (its findings and actions too).
 * Idempotent: the same content writes and records nothing.
 */
export async function putReview(
  tx: Sql,
  audit: RecordAudit,
  slug: string,
  input: ReviewInput,
  now: Date,
): Promise<{ review: Review; result: 'created' | 'updated' | 'unchanged' }> {
  const next = {
    slug,
    reviewedOn: input.reviewedOn,
    scope: input.scope,
    reviewer: input.reviewer ?? '',
    findings: normaliseFindings(input),
  };
  const [current] = await tx.query<DbReviewRow>(
    `SELECT ${COLUMNS} FROM spbe_reviews WHERE slug = $1 FOR UPDATE`,
    [slug],
  );
  if (!current) {
    const [row] = await tx.query<DbReviewRow>(
      `INSERT INTO spbe_reviews (id, slug, reviewed_on, scope, reviewer, findings, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        slug,
        next.reviewedOn,
        next.scope,
        next.reviewer,
        JSON.stringify(next.findings),
        now.toISOString(),
      ],
    );
    await audit({ action: 'spbe.review.create', entityType: 'spbe_review', entityId: slug, after: next });
    return { review: reviewOfRow(row!), result: 'created' };
  }
  const before = audited(reviewOfRow(current));
  if (canonicalJson(before) === canonicalJson(next))
    return { review: reviewOfRow(current), result: 'unchanged' };
  const [row] = await tx.query<DbReviewRow>(
    `UPDATE spbe_reviews SET reviewed_on = $2, scope = $3, reviewer = $4, findings = $5, updated_at = $6
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      current.id,
      next.reviewedOn,
      next.scope,
      next.reviewer,
      JSON.stringify(next.findings),
      now.toISOString(),
    ],
  );
  await audit({
    action: 'spbe.review.update',
    entityType: 'spbe_review',
    entityId: slug,
    before,
    after: next,
  });
  return { review: reviewOfRow(row!), result: 'updated' };
}
