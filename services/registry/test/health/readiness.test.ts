import { randomBytes } from 'node:crypto';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type RegistryApp } from '../../src/app.js';
import { loadRegistryConfig } from '../../src/config.js';
import { openTestDatabase } from '../helpers/test-registry.js';

// /readyz reports the database and Redis; /healthz only that the process answers.
describe('readiness when Redis is unreachable', () => {
  let built: RegistryApp;
  let drop: () => Promise<void>;
  let deadRedis: Redis;

  beforeAll(async () => {
    const store = await openTestDatabase('postgres');
    drop = store.drop;
    // Nothing listens on port 1: every Redis command fails.
    deadRedis = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    deadRedis.on('error', () => {});
    built = await buildApp({
      config: loadRegistryConfig({
        SPL_PUBLIC_URL: 'http://registry.test',
        SPL_REDIS_PREFIX: `t-${randomBytes(3).toString('hex')}`,
      }),
      db: store.db,
      redis: deadRedis,
      secretBox: createSecretBox(randomBytes(32)),
      logger: false,
    });
  });
  afterAll(async () => {
    await built?.app.close();
    deadRedis.disconnect();
    await drop?.();
  });

  it('stays alive and says why it is not ready', async () => {
    expect((await built.app.inject('/healthz')).statusCode).toBe(200);
    const res = await built.app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'not-ready',
      reason: 'redis unavailable',
      database: { ok: true },
      redis: { ok: false },
    });
  });
});
