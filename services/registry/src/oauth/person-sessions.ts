import type { Sql } from '../store/database.js';

/**
 * One session per person (BKS 59(5)): the token endpoint records the `jti` of the newest
 * token it issued to a personal client, and the registry's auth hook accepts a person's
 * token only while it is that one. A newer token therefore ends the older session at once,
 * on every registry instance (the record is in the store, not in one instance's memory).
 *
 * Application, data-plane and bootstrap clients are not limited: several gateway instances,
 * broker workers or replicas of one application legitimately hold tokens of one client at
 * the same time, and each token request would otherwise cut off the others.
 *
 * The check costs one primary-key read per request of a person on the management API; the
 * data planes verify tokens without it (people do not call them).
 */
export interface PersonSessions {
  /** Records `jti` as the person's one session; older tokens of the client stop working. */
  begin(clientId: string, jti: string): Promise<void>;
  /** `current`, `superseded` (a newer token exists), or `inactive` (client or person disabled, erased, unknown). */
  check(clientId: string, jti: string): Promise<'current' | 'superseded' | 'inactive'>;
}

export function createPersonSessions(db: Sql): PersonSessions {
  return {
    async begin(clientId, jti) {
      await db.query("UPDATE oauth_clients SET session_jti = $2 WHERE client_id = $1 AND kind = 'personal'", [
        clientId,
        jti,
      ]);
    },
    async check(clientId, jti) {
      const [row] = await db.query<{
        session_jti: string | null;
        disabled: boolean;
        user_disabled: boolean | null;
      }>(
        `SELECT c.session_jti, c.disabled, u.disabled AS user_disabled
           FROM oauth_clients c LEFT JOIN users u ON u.id = c.user_id
          WHERE c.client_id = $1`,
        [clientId],
      );
      if (!row || row.disabled || row.user_disabled) return 'inactive';
      return row.session_jti === jti ? 'current' : 'superseded';
    },
  };
}
