import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';

/**
 * Repeated failed client authentications are slowed, then locked out (BKS 59(4)(d)).
 * Counted per client id in Redis, so every registry instance sees the same count.
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
): ClientLockout {
  return {
    async isLocked(clientId) {
      const count = Number((await redis.get(keys.authFailures(clientId))) ?? 0);
      return count >= policy.lockoutAfter;
    },
    async recordFailure(clientId) {
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
