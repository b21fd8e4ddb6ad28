import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadBrokerConfig } from '../../src/config.js';
import { readMaxmemoryPolicy } from '../../src/observability/redis-policy.js';
import { HubFixture } from '../helpers/hub-fixture.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { TEST_REDIS_URL, testEnv } from '../helpers/test-broker.js';

describe('the maxmemory-policy check', () => {
  const own = new OwnRedis();
  afterAll(() => own.stop());

  it('reads the policy, and /readyz reports an evicting Redis without turning into 503', async () => {
    await own.start();
    const evicting = new Redis(own.url);
    await evicting.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect(await readMaxmemoryPolicy(evicting)).toBe('allkeys-lru');

    const hub = await HubFixture.create();
    hub.topic();
    const snapshotFile = join(own.dir, 'snapshot.json');
    await writeFile(snapshotFile, JSON.stringify(hub.snapshot()));
    const config = loadBrokerConfig(
      testEnv({ prefix: 'policy', dataDir: own.dir, snapshotFile, redisUrl: own.url }),
    );
    const policy = await readMaxmemoryPolicy(evicting);
    const { app } = await buildApp({
      config,
      redis: evicting,
      secretBox: null,
      logger: false,
      maxmemoryPolicy: () => policy,
    });
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ready',
      redis: { ok: false, maxmemoryPolicy: 'allkeys-lru', error: expect.stringContaining('noeviction') },
    });
    await app.close();
    evicting.disconnect();

    const shared = new Redis(TEST_REDIS_URL);
    expect(await readMaxmemoryPolicy(shared)).toBe('noeviction');
    shared.disconnect();
  });
});
