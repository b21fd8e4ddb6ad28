import { Gauge, type Registry } from '@spl/metrics';
import type { Sql } from '../store/database.js';
import { AGEING_KINDS, SECRET_EXPIRY_WARNING_DAYS } from './clients.js';

/**
 * `spl_registry_client_secrets_expiring`: people's and applications' clients whose last
 * working secret stops working within SECRET_EXPIRY_WARNING_DAYS (BKS 59(4), the maximum
 * age SPL_SECRET_MAX_AGE_DAYS). Counted from the store at each scrape, so every registry
 * instance reports the same number; the alert SplRegistryClientSecretsExpiring
 * (deploy/prometheus/rules/spl-alerts.yml) tells operators to have them rotated in time.
 * A client with a newer secret (a rotation in its overlap) does not count.
 */
export function registerSecretExpiryMetrics(deps: { db: Sql; clock: () => Date; metrics: Registry }): void {
  const { db, clock } = deps;
  new Gauge({
    name: 'spl_registry_client_secrets_expiring',
    help: `Clients of people and applications whose last working secret expires within ${SECRET_EXPIRY_WARNING_DAYS} days (SPL_SECRET_MAX_AGE_DAYS)`,
    registers: [deps.metrics],
    async collect() {
      const now = clock();
      const horizon = new Date(now.getTime() + SECRET_EXPIRY_WARNING_DAYS * 86_400_000);
      try {
        const [row] = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT max(coalesce(s.expires_at, 'infinity'::timestamptz)) AS last_expiry
               FROM oauth_clients c
               JOIN client_secrets s ON s.client_id = c.client_id
               LEFT JOIN users u ON u.id = c.user_id
              WHERE c.kind = ANY($1) AND NOT c.disabled AND NOT coalesce(u.disabled, false)
                AND (s.expires_at IS NULL OR s.expires_at > $2)
              GROUP BY c.client_id) working
            WHERE last_expiry <= $3`,
          [[...AGEING_KINDS], now.toISOString(), horizon.toISOString()],
        );
        this.set(row?.n ?? 0);
      } catch {
        // The store is away: the last value stands; SplPostgresUnreachable says why.
      }
    },
  });
}
