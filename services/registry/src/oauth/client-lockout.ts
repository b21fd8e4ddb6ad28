import { Counter, type Registry } from '@spl/metrics';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';

/**
 * Repeated failed client authentications are slowed, then locked out (BKS 59(4)(d)).
 * Counted per client id in Redis, so every registry instance sees the same count; counted in
 * total (no client id label: guessing ids would make a series each) for the alerts on
 * credential guessing, BKS 59(6)(b) (deploy/prometheus/rules/spl-alerts.yml).
 */
export interface ClientLockout {
  /** Whether the client id is locked out now. */
  isLocked(clientId: string): Promise<boolean>;
  /** Records a failure; returns how long to delay the answer, ms. */
  recordFailure(clientId: string): Promise<number>;
  reset(clientId: string): Promise<void>;
}

export function createClientLockout(
  redis: Redis,
  keys: RedisKeys,
  policy: { slowdownAfter: number; lockoutAfter: number; windowSeconds: number },
  metrics: Registry,
): ClientLockout {
  const failures = new Counter({
    name: 'spl_registry_client_auth_failures_total',
    help: 'Failed client authentications at the token endpoint (unknown client id or wrong secret)',
    registers: [metrics],
  });
  const lockedOut = new Counter({
    name: 'spl_registry_client_lockout_refusals_total',
    help: 'Token requests refused because their client id is locked out after repeated failures (SPL_AUTH_LOCKOUT_*)',
    registers: [metrics],
  });
  return {
    async isLocked(clientId) {
      const count = Number((await redis.get(keys.authFailures(clientId))) ?? 0);
      const locked = count >= policy.lockoutAfter;
      if (locked) lockedOut.inc();
      return locked;
    },
    async recordFailure(clientId) {
      failures.inc();
      const key = keys.authFailures(clientId);
      const [[, count]] = (await redis.multi().incr(key).expire(key, policy.windowSeconds).exec()) as [
        [unknown, number],
      ];
      if (count < policy.slowdownAfter) return 0;
      // 250 ms, doubling per further failure, at most 4 s.
      return Math.min(250 * 2 ** (count - policy.slowdownAfter), 4000);
    },
    async reset(clientId) {
      await redis.del(keys.authFailures(clientId));
    },
  };
}
