import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type RateDecision,
  type RateLimiter,
  RateLimiterOptionsError,
  rateLimitHeaders,
} from '../../src/limits/rate-limiter.js';

const REDIS_URL = process.env.SPL_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function settle(decision: RateDecision | Promise<RateDecision>): Promise<RateDecision> {
  return decision instanceof Promise ? await decision : decision;
}

describe('the shared rate limit (leases from Redis)', () => {
  // Two connections, as two gateway instances would have.
  let gatewayA: Redis;
  let gatewayB: Redis;
  const prefix = `spl-test-${randomBytes(6).toString('hex')}`;
  const limiters: RateLimiter[] = [];

  function limiter(redis: Redis, options: Partial<Parameters<typeof createRateLimiter>[0]> = {}) {
    const created = createRateLimiter({ redis, prefix, leaseSize: 10, failMode: 'open', ...options });
    limiters.push(created);
    return created;
  }

  beforeAll(() => {
    gatewayA = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    gatewayB = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  });
  afterEach(() => {
    for (const l of limiters.splice(0)) l.close();
  });
  afterAll(async () => {
    const keys = await gatewayA.keys(`${prefix}:*`);
    if (keys.length > 0) await gatewayA.del(...keys);
    await gatewayA.quit();
    await gatewayB.quit();
  });

  it('accepts at most limit + instances × leaseSize when two instances hammer one key', async () => {
    const a = limiter(gatewayA);
    const b = limiter(gatewayB);
    const plan = { requestsPerMinute: 100 };
    // Keep the run inside one minute window, so the bound is per window as stated.
    const msIntoWindow = Date.now() % 60_000;
    if (msIntoWindow > 55_000) await new Promise((r) => setTimeout(r, 60_500 - msIntoWindow));

    const attempts: Promise<RateDecision>[] = [];
    for (let i = 0; i < 400; i++) {
      attempts.push(settle(a.take('app-1:dinkes/faskes/v1', plan)));
      attempts.push(settle(b.take('app-1:dinkes/faskes/v1', plan)));
    }
    const decisions = await Promise.all(attempts);
    const accepted = decisions.filter((d) => d.allowed).length;

    expect(accepted).toBeLessThanOrEqual(100 + 2 * 10);
    expect(accepted).toBeGreaterThanOrEqual(100 - 2 * 10);
    expect(decisions.every((d) => d.degraded === undefined)).toBe(true);
    const refused = decisions.find((d) => !d.allowed)!;
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.remaining).toBe(0);
  });

  it('serves from the local lease without a round trip while it lasts', async () => {
    const l = limiter(gatewayA);
    const plan = { requestsPerMinute: 1000 };
    const first = l.take('app-2:x/y/v1', plan);
    expect(first).toBeInstanceOf(Promise); // the first refill
    expect((await first).allowed).toBe(true);
    for (let i = 0; i < 9; i++) {
      const next = l.take('app-2:x/y/v1', plan);
      expect(next).not.toBeInstanceOf(Promise);
      expect((next as RateDecision).allowed).toBe(true);
    }
  });

  it('starts a fresh count when the window resets', async () => {
    let now = Date.UTC(2026, 10, 5, 10, 0, 0); // the start of a minute window
    const l = limiter(gatewayA, { clock: () => now });
    const plan = { requestsPerMinute: 20 };
    let accepted = 0;
    for (let i = 0; i < 30; i++) if ((await settle(l.take('app-3:x/y/v1', plan))).allowed) accepted++;
    expect(accepted).toBe(20);
    const refused = await settle(l.take('app-3:x/y/v1', plan));
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(60);

    now += 60_000;
    const afterReset = await settle(l.take('app-3:x/y/v1', plan));
    expect(afterReset.allowed).toBe(true);
    expect(afterReset.resetSeconds).toBe(60);
  });

  it('holds the burst per second, and takes the next second from Redis again', async () => {
    let now = Date.UTC(2026, 10, 5, 11, 0, 0);
    const l = limiter(gatewayA, { clock: () => now });
    const plan = { requestsPerMinute: 600, burst: 30 };
    let accepted = 0;
    for (let i = 0; i < 50; i++) if ((await settle(l.take('app-4:x/y/v1', plan))).allowed) accepted++;
    expect(accepted).toBe(30);
    const refused = await settle(l.take('app-4:x/y/v1', plan));
    expect(refused.retryAfterSeconds).toBe(1);
    now += 1000;
    expect((await settle(l.take('app-4:x/y/v1', plan))).allowed).toBe(true);
  });

  it('never leases more than a tenth of a small limit to one instance', async () => {
    const a = limiter(gatewayA, { leaseSize: 50 });
    const b = limiter(gatewayB, { leaseSize: 50 });
    const plan = { requestsPerMinute: 30 };
    expect((await settle(a.take('app-5:x/y/v1', plan))).allowed).toBe(true);
    // a holds 2 more units; 27 are left for b.
    let acceptedByB = 0;
    for (let i = 0; i < 40; i++) if ((await settle(b.take('app-5:x/y/v1', plan))).allowed) acceptedByB++;
    expect(acceptedByB).toBe(27);
  });

  it('answers from memory while the circuit is open, then probes Redis and recovers', async () => {
    // Not connected yet and no offline queue: the first refill fails at once.
    const late = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    let now = Date.now();
    const l = limiter(late, { failMode: 'closed', clock: () => now, circuitBreakMs: 1000 });
    const plan = { requestsPerMinute: 100 };
    const down = await settle(l.take('app-6:x/y/v1', plan));
    expect(down).toMatchObject({ allowed: false, degraded: 'redis-unavailable', retryAfterSeconds: 1 });
    const stillOpen = l.take('app-6:x/y/v1', plan);
    expect(stillOpen).not.toBeInstanceOf(Promise);

    await late.ping().catch(() => new Promise((r) => setTimeout(r, 100)));
    now += 1000;
    const recovered = await settle(l.take('app-6:x/y/v1', plan));
    expect(recovered.allowed).toBe(true);
    expect(recovered.degraded).toBeUndefined();
    late.disconnect();
  });

  it('produces RateLimit headers, and Retry-After only when refused', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 100, remaining: 42, resetSeconds: 17 })).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '42',
      'RateLimit-Reset': '17',
    });
    expect(
      rateLimitHeaders({ allowed: false, limit: 100, remaining: 0, resetSeconds: 17, retryAfterSeconds: 17 }),
    ).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '17',
      'Retry-After': '17',
    });
  });

  it('refuses bad options when created', () => {
    expect(() => createRateLimiter({ redis: gatewayA, prefix, leaseSize: 0, failMode: 'open' })).toThrow(
      RateLimiterOptionsError,
    );
    expect(() => createRateLimiter({ redis: gatewayA, prefix, failMode: 'sometimes' as 'open' })).toThrow(
      RateLimiterOptionsError,
    );
  });
});

describe('the shared rate limit when Redis is down', () => {
  let deadRedis: Redis;

  beforeAll(() => {
    // Nothing listens on port 1: as a gateway whose Redis went away.
    deadRedis = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 1000,
    });
    deadRedis.on('error', () => {});
  });
  afterAll(() => {
    deadRedis.disconnect();
  });

  async function takeMany(l: RateLimiter, n: number): Promise<RateDecision[]> {
    const decisions: RateDecision[] = [];
    for (let i = 0; i < n; i++)
      decisions.push(await settle(l.take(`app-${i % 7}:x/y/v1`, { requestsPerMinute: 10 })));
    return decisions;
  }

  it('fails open: accepts, marked degraded, without waiting on Redis per request', async () => {
    const l = createRateLimiter({ redis: deadRedis, prefix: 'spl-dead', failMode: 'open' });
    const started = performance.now();
    const decisions = await takeMany(l, 1000);
    const elapsedMs = performance.now() - started;
    l.close();

    expect(elapsedMs).toBeLessThan(500);
    expect(decisions.every((d) => d.allowed && d.degraded === 'redis-unavailable')).toBe(true);
  });

  it('fails closed: refuses with Retry-After, marked degraded, without waiting on Redis per request', async () => {
    const l = createRateLimiter({ redis: deadRedis, prefix: 'spl-dead', failMode: 'closed' });
    const started = performance.now();
    const decisions = await takeMany(l, 1000);
    const elapsedMs = performance.now() - started;
    l.close();

    expect(elapsedMs).toBeLessThan(500);
    expect(decisions.every((d) => !d.allowed && d.degraded === 'redis-unavailable')).toBe(true);
    expect(decisions.every((d) => (d.retryAfterSeconds ?? 0) >= 1)).toBe(true);
    expect(rateLimitHeaders(decisions[0]!)['Retry-After']).toBeDefined();
  });

  it('gives up on a Redis that accepts commands but never answers, after the timeout, then answers from memory', async () => {
    // Offline queue on and never connected: commands would wait for a connection forever.
    const hanging = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: true });
    hanging.on('error', () => {});
    const l = createRateLimiter({
      redis: hanging,
      prefix: 'spl-dead',
      failMode: 'closed',
      redisTimeoutMs: 50,
    });
    const started = performance.now();
    const decisions = await Promise.all(
      Array.from({ length: 1000 }, () => settle(l.take('k', { requestsPerMinute: 10 }))),
    );
    const elapsedMs = performance.now() - started;
    l.close();
    hanging.disconnect();

    expect(elapsedMs).toBeLessThan(500);
    expect(decisions.every((d) => !d.allowed && d.degraded === 'redis-unavailable')).toBe(true);
  });
});
