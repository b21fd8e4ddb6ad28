import type { RecordAudit } from '../audit/mutations.js';
import { errors } from '../errors.js';
import type { Roster } from '../routes/spbe/schemas.js';
import type { Sql } from '../store/database.js';

interface DbRosterRow {
  slug: string;
  name: string;
  added_at: Date;
}

/** The Perangkat Daerah the operator declared for the region, by slug. */
export async function listRoster(db: Sql): Promise<Roster> {
  const rows = await db.query<DbRosterRow>(
    `SELECT o.slug, o.name, r.added_at FROM spbe_roster r JOIN organisations o ON o.id = r.org_id ORDER BY o.slug`,
  );
  return {
    organisations: rows.map((r) => ({
      slug: r.slug,
      name: r.name,
      addedAt: new Date(r.added_at).toISOString(),
    })),
  };
}

/**
 * Replaces the roster with `slugs`. Only organisations of kind `perangkat-daerah` may be on
 * it: Indikator 18 level 3 asks whether every PD uses the hub, not every participant.
 * Writes and records nothing when the roster already is `slugs`.
 */
export async function setRoster(
  tx: Sql,
  audit: RecordAudit,
  slugs: readonly string[],
  now: Date,
): Promise<{ roster: Roster; changed: boolean }> {
  const wanted = [...new Set(slugs)].sort();
  const orgs = wanted.length
    ? await tx.query<{ id: string; slug: string; kind: string }>(
        'SELECT id, slug, kind FROM organisations WHERE slug = ANY($1)',
        [wanted],
      )
    : [];
  const missing = wanted.filter((s) => !orgs.some((o) => o.slug === s));
  if (missing.length) throw errors.SPL_NOT_FOUND(`no organisation ${missing.join(', ')}`);
  const notPd = orgs.filter((o) => o.kind !== 'perangkat-daerah');
  if (notPd.length)
    throw errors.SPL_VALIDATION(
      `only Perangkat Daerah are on the roster; ${notPd.map((o) => `${o.slug} is ${o.kind}`).join(', ')}`,
      {
        extensions: {
          errors: notPd.map((o) => ({
            pointer: `body:/organisations/${wanted.indexOf(o.slug)}`,
            message: 'is not a perangkat-daerah',
          })),
        },
      },
    );
  const before = (await listRoster(tx)).organisations.map((o) => o.slug);
  if (before.join('\n') === wanted.join('\n')) return { roster: await listRoster(tx), changed: false };
  await tx.query('DELETE FROM spbe_roster WHERE org_id <> ALL($1)', [orgs.map((o) => o.id)]);
  for (const org of orgs)
    await tx.query(
      'INSERT INTO spbe_roster (org_id, added_at) VALUES ($1, $2) ON CONFLICT (org_id) DO NOTHING',
      [org.id, now.toISOString()],
    );
  await audit({
    action: 'spbe.roster.set',
    entityType: 'spbe_roster',
    entityId: 'roster',
    before: { organisations: before },
    after: { organisations: wanted },
  });
  return { roster: await listRoster(tx), changed: true };
}
