import type { Redis } from 'ioredis';

/**
 * Leadership of the SLA prober among registry instances (issue 5 §1: "from one place even
 * when several instances run"): a Redis key holding the leader's token with a TTL.
 *
 *   acquire:  SET key token NX PX ttl          (free → ours)
 *   renew:    Lua: if GET key == token then PEXPIRE key ttl   (still ours → extended)
 *   release:  Lua: if GET key == token then DEL key           (ours → free at once)
 *
 * A leader that dies stops renewing, and the key expires within `ttlMs`: the next instance
 * to try acquires it, so probing stops for at most the TTL plus one attempt interval. Renew
 * and release compare the token first, so an instance whose lease expired (a long GC pause)
 * cannot extend or delete its successor's.
 */
export interface ProbeLease {
  /** Takes the lease if free, renews it if ours; whether we hold it afterwards. */
  hold(): Promise<boolean>;
  /** Gives the lease up if ours (on shutdown), so another instance takes over without waiting. */
  release(): Promise<void>;
  /** Whether the last `hold()` left us holding the lease. */
  readonly isHeld: boolean;
}

// KEYS[1] lease key; ARGV[1] our token, ARGV[2] TTL ms. Returns 1 if renewed, 0 if not ours.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

// KEYS[1] lease key; ARGV[1] our token. Returns 1 if released, 0 if not ours.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export function createProbeLease(options: {
  redis: Redis;
  key: string;
  /** Unique per process start: who holds the lease. */
  token: string;
  /** Lease lifetime, milliseconds. */
  ttlMs: number;
}): ProbeLease {
  const { redis, key, token, ttlMs } = options;
  let isHeld = false;
  return {
    async hold() {
      try {
        if (isHeld && Number(await redis.eval(RENEW, 1, key, token, ttlMs)) === 1) return true;
        isHeld = (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
      } catch (err) {
        // Redis away: we cannot know, so we must not probe (another may have taken over).
        isHeld = false;
        throw err;
      }
      return isHeld;
    },
    async release() {
      if (!isHeld) return;
      isHeld = false;
      await redis.eval(RELEASE, 1, key, token);
    },
    get isHeld() {
      return isHeld;
    },
  };
}
