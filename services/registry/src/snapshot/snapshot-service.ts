import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';

/**
 * Keeps the data planes' snapshot current: after a committed change it is recompiled
 * (debounced) and its new version announced on Redis.
 */
export interface SnapshotService {
  /** Called after every committed mutation. */
  markChanged(): void;
  close(): Promise<void>;
}

export function createSnapshotService(deps: { redis: Redis; keys: RedisKeys }): SnapshotService {
  return {
    markChanged() {
      void deps.redis
        .publish(deps.keys.snapshotChannel, JSON.stringify({ changedAt: new Date().toISOString() }))
        .catch(() => {});
    },
    async close() {},
  };
}
