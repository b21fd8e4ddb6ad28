import type { SecretBox } from '@spl/secret-box';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKey,
  importSigningKey,
  type PublicJwk,
  type SigningKey,
} from '@spl/token';
import type { Mutate } from '../audit/mutations.js';
import type { Actor } from '../auth/principal.js';
import type { Sql } from '../store/database.js';

interface DbSigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: PublicJwk;
  private_key: string;
  created_at: Date;
  retired_at: Date | null;
  not_after: Date | null;
}

/**
 * The hub's token signing keys. One key is active; a rotated-out key stays in the JWKS
 * until `not_after` = retirement + token lifetime + clock skew, when the last token it
 * signed has expired. Keys are re-read from the store every `refreshMs`, so registry
 * instances pick up a rotation made by another instance.
 */
export interface KeyRing {
  activeKey(): Promise<SigningKey>;
  jwks(): Promise<{ keys: PublicJwk[] }>;
  verifier(): Promise<AccessTokenVerifier>;
  /** Ensures an active key exists and is younger than the rotation period. */
  ensureActiveKey(actor: Actor): Promise<void>;
  rotate(actor: Actor): Promise<{ kid: string; retired: string[] }>;
  /** The keys in the JWKS now, newest first, read from the store (not the cache). */
  listKeys(): Promise<SigningKeyInfo[]>;
  /** Forget the cached keys (after a rotation elsewhere, or an unknown kid). */
  invalidate(): void;
}

/** A signing key as operators and auditors see it: never its private part. */
export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: string;
  retiredAt: string | null;
  /** When the key leaves the JWKS: the last token it signed has expired. */
  notAfter: string | null;
  /** `active` signs new tokens; `retiring` only verifies tokens it already signed. */
  status: 'active' | 'retiring';
}

export function createKeyRing(deps: {
  db: Sql;
  mutate: Mutate;
  secretBox: SecretBox;
  clock: () => Date;
  issuer: string;
  audience: string;
  tokenLifetimeSeconds: number;
  rotationDays: number;
  refreshMs?: number;
}): KeyRing {
  const refreshMs = deps.refreshMs ?? 30_000;
  let cache:
    | {
        loadedAt: number;
        active: SigningKey | null;
        activeCreatedAt: Date | null;
        jwks: { keys: PublicJwk[] };
        verifier: AccessTokenVerifier;
      }
    | undefined;

  async function load() {
    const now = deps.clock();
    if (cache && now.getTime() - cache.loadedAt < refreshMs) return cache;
    const rows = await deps.db.query<DbSigningKeyRow>(
      'SELECT * FROM signing_keys WHERE not_after IS NULL OR not_after > $1 ORDER BY created_at DESC',
      [now.toISOString()],
    );
    const activeRow = rows.find((r) => r.retired_at === null);
    const active = activeRow
      ? await importSigningKey(deps.secretBox.open(activeRow.private_key, `signing-key:${activeRow.kid}`))
      : null;
    const jwks = { keys: rows.map((r) => r.public_jwk) };
    cache = {
      loadedAt: now.getTime(),
      active,
      activeCreatedAt: activeRow ? new Date(activeRow.created_at) : null,
      jwks,
      verifier: createAccessTokenVerifier({ jwks, issuer: deps.issuer, audience: deps.audience }),
    };
    return cache;
  }

  async function rotate(actor: Actor) {
    const key = await generateSigningKey();
    const out = await deps.mutate(actor, async (tx, audit) => {
      const now = deps.clock();
      // Another registry instance may sign with the old key until its cache refreshes
      // (refreshMs); its last token then lives a token lifetime more; 60 s covers clock skew.
      const notAfter = new Date(now.getTime() + refreshMs + (deps.tokenLifetimeSeconds + 60) * 1000);
      const retired = await tx.query<{ kid: string }>(
        'UPDATE signing_keys SET retired_at = $1, not_after = $2 WHERE retired_at IS NULL RETURNING kid',
        [now.toISOString(), notAfter.toISOString()],
      );
      await tx.query(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at) VALUES ($1, $2, $3, $4, $5)',
        [
          key.kid,
          key.alg,
          JSON.stringify(key.publicJwk),
          deps.secretBox.seal(key.privateJwkJson, `signing-key:${key.kid}`),
          now.toISOString(),
        ],
      );
      await audit({
        action: 'signing-key.rotate',
        entityType: 'signing-key',
        entityId: key.kid,
        before: { active: retired.map((r) => r.kid) },
        after: { active: key.kid, retiredUntil: notAfter.toISOString() },
      });
      return { kid: key.kid, retired: retired.map((r) => r.kid) };
    });
    cache = undefined;
    return out;
  }

  return {
    async activeKey() {
      const c = await load();
      if (!c.active) throw new Error('no active signing key');
      return c.active;
    },
    async jwks() {
      return (await load()).jwks;
    },
    async verifier() {
      return (await load()).verifier;
    },
    async ensureActiveKey(actor) {
      const c = await load();
      const maxAgeMs = deps.rotationDays * 86_400_000;
      if (!c.active || !c.activeCreatedAt || deps.clock().getTime() - c.activeCreatedAt.getTime() > maxAgeMs)
        await rotate(actor);
    },
    rotate,
    async listKeys() {
      const rows = await deps.db.query<Omit<DbSigningKeyRow, 'private_key' | 'public_jwk'>>(
        `SELECT kid, alg, created_at, retired_at, not_after FROM signing_keys
          WHERE not_after IS NULL OR not_after > $1 ORDER BY retired_at IS NOT NULL, created_at DESC, kid`,
        [deps.clock().toISOString()],
      );
      return rows.map((r) => ({
        kid: r.kid,
        alg: r.alg,
        createdAt: new Date(r.created_at).toISOString(),
        retiredAt: r.retired_at ? new Date(r.retired_at).toISOString() : null,
        notAfter: r.not_after ? new Date(r.not_after).toISOString() : null,
        status: r.retired_at ? 'retiring' : 'active',
      }));
    },
    invalidate() {
      // At most one reload per 5 s, so a flood of bad tokens cannot hammer the store.
      if (cache && deps.clock().getTime() - cache.loadedAt > 5000) cache = undefined;
    },
  };
}
