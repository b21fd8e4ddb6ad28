import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createProbeLease } from '../../src/sla/probe-lease.js';
import { deleteRedisPrefix, TEST_REDIS_URL } from '../helpers/test-registry.js';

describe('the probe lease', () => {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const key = `${prefix}:sla:probe-lease`;
  afterAll(async () => {
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  });

  it('is held by one at a time, renewed only by its holder, and free once released', async () => {
    const a = createProbeLease({ redis, key, token: 'a', ttlMs: 500 });
    const b = createProbeLease({ redis, key, token: 'b', ttlMs: 500 });
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    expect(await a.hold()).toBe(true); // renewed
    expect(await redis.pttl(key)).toBeGreaterThan(400);
    await b.release(); // not b's: nothing happens
    expect(await redis.get(key)).toBe('a');
    await a.release();
    expect(await redis.get(key)).toBeNull();
    expect(await b.hold()).toBe(true);
  });

  it('passes to another when its holder stops renewing, and the old holder cannot take it back by renewing', async () => {
    const a = createProbeLease({ redis, key: `${key}-2`, token: 'a', ttlMs: 200 });
    const b = createProbeLease({ redis, key: `${key}-2`, token: 'b', ttlMs: 200 });
    expect(await a.hold()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await b.hold()).toBe(true);
    expect(await a.hold()).toBe(false);
    expect(a.isHeld).toBe(false);
    expect(await redis.get(`${key}-2`)).toBe('b');
  });
});
