import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../src/redis-keys.js';
import { createUsageAggregator, usageRecordId } from '../../src/usage/usage-aggregator.js';
import type { UsageRecordJson } from '../../src/usage/usage-record.js';
import { TEST_REDIS_URL } from '../helpers/test-gateway.js';

const ROUTE = { id: 'route-1', org: 'disdukcapil', api: 'kependudukan', version: 'v1' };
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

async function readStream(redis: Redis, stream: string): Promise<UsageRecordJson[]> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!) as UsageRecordJson);
}

describe('usage aggregator', () => {
  let redis: Redis;
  let stream: string;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    await redis.del(stream);
  });
  afterAll(() => redis.disconnect());
  const fresh = (now: () => number, instanceId = 'gw-test') => {
    stream = createRedisKeys(`test-${randomBytes(5).toString('hex')}`).usageStream;
    return createUsageAggregator({ redis, stream, now, instanceId, flushIntervalMs: 0 });
  };

  it('flushes a minute only once it has closed, one entry per aggregate', async () => {
    let t = T0 + 59_999;
    const agg = fresh(() => t);
    agg.record(ROUTE, 'app-1', 'iss', 200, 10, 100, 3);
    agg.record(ROUTE, 'app-1', 'iss', 201, 5, 50, 7);
    agg.record(ROUTE, 'app-1', 'iss', 404, 0, 20, 1);
    agg.record(ROUTE, 'app-2', 'iss', 200, 0, 0, 1);
    await agg.flush();
    expect(await redis.xlen(stream)).toBe(0); // 10:00 is still open

    t = T0 + 60_000; // 10:01:00.000 belongs to the next minute
    agg.record(ROUTE, 'app-1', 'iss', 200, 1, 1, 1);
    await agg.flush();
    const records = await readStream(redis, stream);
    expect(records).toHaveLength(3);
    const ok1 = records.find((r) => r.applicationId === 'app-1' && r.statusClass === '2xx')!;
    expect(ok1).toMatchObject({ minute: '2025-03-01T10:00:00.000Z', count: 2, bytesIn: 15, bytesOut: 150 });
    expect(records.find((r) => r.statusClass === '4xx')!.count).toBe(1);
    expect(ok1.recordId).toBe(
      usageRecordId('gw-test', ok1.minute, 'route-1|disdukcapil/kependudukan/v1|app-1|iss|2xx'),
    );

    await agg.close(); // the open minute goes out on close
    const all = await readStream(redis, stream);
    expect(all).toHaveLength(4);
    expect(all[3]).toMatchObject({ minute: '2025-03-01T10:01:00.000Z', count: 1 });
    expect(new Set(all.map((r) => r.recordId)).size).toBe(4);
  });

  it('closes a minute on the timer even when no request follows it', async () => {
    let t = T0;
    const agg = fresh(() => t);
    agg.record(ROUTE, null, null, 503, 0, 0, 1);
    t = T0 + 61_000;
    await agg.flush();
    const [r] = await readStream(redis, stream);
    expect(r).toMatchObject({ applicationId: '', issuer: '', statusClass: '5xx', count: 1 });
    await agg.close();
    expect(await redis.xlen(stream)).toBe(1);
  });

  it('puts each latency in its fixed bucket, bounds inclusive, the rest in +Inf', async () => {
    const t = T0;
    const agg = fresh(() => t);
    for (const ms of [0, 5, 5.01, 10, 24, 50, 99, 250, 400, 1000, 2500, 5000, 5001, 60_000])
      agg.record(ROUTE, 'app-1', 'iss', 200, 0, 0, ms);
    await agg.close();
    const [r] = await readStream(redis, stream);
    //                 5  10 25 50 100 250 500 1000 2500 5000 +Inf
    expect(r!.latency).toEqual([2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
    expect(r!.count).toBe(14);
  });

  it('keeps the records while Redis is down and writes them once it is back', async () => {
    let t = T0;
    const broken = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    broken.on('error', () => {});
    stream = createRedisKeys(`test-${randomBytes(5).toString('hex')}`).usageStream;
    const down = createUsageAggregator({
      redis: broken,
      stream,
      now: () => t,
      instanceId: 'gw',
      flushIntervalMs: 0,
      maxPending: 2,
    });
    for (const app of ['a', 'b', 'c']) down.record(ROUTE, app, 'iss', 200, 0, 0, 1);
    t += 60_000;
    await expect(down.flush()).rejects.toThrow();
    // Three aggregates, room for two: the oldest is dropped and counted.
    expect(down.stats()).toMatchObject({ pending: 2, dropped: 1, written: 0 });
    broken.disconnect();
  });

  it('retries a failed flush with the same records and ids', async () => {
    let t = T0;
    let failNext = true;
    const flaky = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop === 'pipeline' && failNext) {
          failNext = false;
          return () => ({
            xadd() {},
            exec: async () => {
              throw new Error('connection lost');
            },
          });
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    stream = createRedisKeys(`test-${randomBytes(5).toString('hex')}`).usageStream;
    const agg = createUsageAggregator({
      redis: flaky,
      stream,
      now: () => t,
      instanceId: 'gw',
      flushIntervalMs: 0,
    });
    agg.record(ROUTE, 'a', 'iss', 200, 0, 0, 1);
    t += 60_000;
    await expect(agg.flush()).rejects.toThrow('connection lost');
    expect(agg.stats()).toMatchObject({ pending: 1, written: 0 });
    await agg.flush();
    expect(agg.stats()).toMatchObject({ pending: 0, written: 1, dropped: 0 });
    expect(await redis.xlen(stream)).toBe(1);
    await agg.close();
  });
});
