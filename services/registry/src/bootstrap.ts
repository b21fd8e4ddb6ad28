import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR } from './auth/principal.js';
import { applySecretMaxAge, createClient, generateClientId } from './oauth/clients.js';
import { generateClientSecret } from './oauth/secret-hash.js';
import type { RegistryContext } from './registry-context.js';

/** The organisation that runs the hub and owns the bootstrap client. */
export const HUB_ORG_SLUG = 'diskominfo';

/**
 * On first start with an empty store: the hub's own organisation and a bootstrap operator
 * client (from SPL_BOOTSTRAP_CLIENT_ID/SECRET, or generated). Returns the credentials only
 * when it created them, so the caller can hand them over once (demo.json), never log them.
 * The bootstrap client has no person behind it, so it cannot approve or consent.
 */
export async function bootstrapStore(
  ctx: Pick<RegistryContext, 'db' | 'mutate' | 'clock' | 'config'>,
): Promise<{ clientId: string; clientSecret: string } | null> {
  const [{ count }] = (await ctx.db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM oauth_clients',
  )) as [{ count: number }];
  if (count > 0) return null;
  return ctx.mutate(SYSTEM_ACTOR, async (tx, audit) => {
    let [org] = await tx.query<{ id: string }>('SELECT id FROM organisations WHERE slug = $1', [
      HUB_ORG_SLUG,
    ]);
    if (!org) {
      const id = randomUUID();
      await tx.query(
        `INSERT INTO organisations (id, slug, name, kind, created_at, updated_at) VALUES ($1, $2, $3, 'dinas-kominfo', $4, $4)`,
        [id, HUB_ORG_SLUG, 'Dinas Komunikasi dan Informatika', ctx.clock().toISOString()],
      );
      org = { id };
      await audit({
        action: 'organisation.create',
        entityType: 'organisation',
        entityId: HUB_ORG_SLUG,
        after: { slug: HUB_ORG_SLUG, kind: 'dinas-kominfo' },
      });
    }
    const clientId = ctx.config.SPL_BOOTSTRAP_CLIENT_ID ?? generateClientId('bootstrap-operator');
    const created = await createClient(tx, {
      clientId,
      kind: 'bootstrap',
      orgId: org.id,
      roles: ['operator'],
      secret: ctx.config.SPL_BOOTSTRAP_CLIENT_SECRET ?? generateClientSecret(),
      now: ctx.clock(),
      secretMaxAgeDays: ctx.config.SPL_SECRET_MAX_AGE_DAYS,
    });
    await audit({
      action: 'client.create',
      entityType: 'client',
      entityId: clientId,
      after: { clientId, kind: 'bootstrap', org: HUB_ORG_SLUG, roles: ['operator'] },
    });
    return created;
  });
}

/**
 * At every start: secrets of people and applications that have no expiry get one
 * SPL_SECRET_MAX_AGE_DAYS away (those issued before the rule, or while it was 0). Recorded
 * in the audit trail when it touched any.
 */
export async function applySecretMaxAgeAtStart(
  ctx: Pick<RegistryContext, 'mutate' | 'clock' | 'config'>,
): Promise<number> {
  const maxAgeDays = ctx.config.SPL_SECRET_MAX_AGE_DAYS;
  if (maxAgeDays === 0) return 0;
  return ctx.mutate(SYSTEM_ACTOR, async (tx, audit) => {
    const count = await applySecretMaxAge(tx, ctx.clock(), maxAgeDays);
    if (count > 0)
      await audit({
        action: 'client.secret.max-age',
        entityType: 'client',
        entityId: '*',
        after: { secrets: count, maxAgeDays },
      });
    return count;
  });
}
