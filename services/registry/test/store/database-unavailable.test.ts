import { randomBytes } from 'node:crypto';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type RegistryApp } from '../../src/app.js';
import { loadRegistryConfig } from '../../src/config.js';
import { createPostgresDatabase, type Database } from '../../src/store/database.js';
import { isDatabaseUnavailable } from '../../src/store/pg-errors.js';
import { OwnPostgres } from '../helpers/own-postgres.js';
import { deleteRedisPrefix, TEST_REDIS_URL } from '../helpers/test-registry.js';

describe('isDatabaseUnavailable', () => {
  it('knows a server that is gone from a request that is wrong', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
    ])
      expect(isDatabaseUnavailable(err), err.message).toBe(true);
    for (const err of [
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      new Error('something else'),
      undefined,
    ])
      expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

/** Connect and statement timeout here (SPL_DATABASE_QUERY_TIMEOUT_MS, 15 s by default). */
const HANG_TIMEOUT_MS = 3000;

// A PostgreSQL of the test's own (not the shared one), stopped under a running registry.
describe('the registry while its PostgreSQL is stopped and started again', () => {
  const postgres = new OwnPostgres();
  const prefix = `t-${randomBytes(4).toString('hex')}`;
  const idleErrors: Error[] = [];
  let db: Database;
  let redis: Redis;
  let built: RegistryApp;
  let bearer: string;
  const bootstrap = { id: 'bootstrap-operator', secret: 'bootstrap-secret-for-tests-only-0123456789' };

  const token = () =>
    built.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=${bootstrap.id}&client_secret=${bootstrap.secret}`,
    });
  const listApis = () =>
    built.app.inject({ url: '/v1/apis', headers: { authorization: `Bearer ${bearer}` } });

  beforeAll(async () => {
    await postgres.start();
    db = createPostgresDatabase({
      url: postgres.url,
      max: 4,
      connectTimeoutMs: HANG_TIMEOUT_MS,
      queryTimeoutMs: HANG_TIMEOUT_MS,
      onIdleError: (err) => idleErrors.push(err),
    });
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    built = await buildApp({
      config: loadRegistryConfig({
        SPL_PUBLIC_URL: 'http://registry.test',
        SPL_REDIS_PREFIX: prefix,
        REDIS_URL: TEST_REDIS_URL,
        SPL_BOOTSTRAP_CLIENT_ID: bootstrap.id,
        SPL_BOOTSTRAP_CLIENT_SECRET: bootstrap.secret,
        SPL_PROBE_SECONDS: '0',
      }),
      db,
      redis,
      secretBox: createSecretBox(randomBytes(32)),
      logger: false,
    });
    bearer = (await token()).json().access_token;
    expect((await listApis()).statusCode).toBe(200);
  }, 60_000);

  afterAll(async () => {
    try {
      await built?.app.close();
      await deleteRedisPrefix(redis, prefix).catch(() => {});
      redis?.disconnect();
    } finally {
      await postgres.remove();
    }
  });

  it('answers 503 where it needs the database, says it is not ready, and stays alive', async () => {
    await postgres.stop('fast');

    expect((await built.app.inject('/healthz')).statusCode).toBe(200);
    const ready = await built.app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not-ready', database: { ok: false }, redis: { ok: true } });

    const apis = await listApis();
    expect(apis.statusCode).toBe(503);
    expect(apis.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(apis.headers['retry-after']).toBe('5');
    expect(apis.json()).toMatchObject({ code: 'SPL_UNAVAILABLE', status: 503 });

    // A write runs in a transaction: taking the connection fails the same way.
    const write = await built.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { authorization: `Bearer ${bearer}` },
      payload: { slug: 'dinas-uji', name: 'Dinas Uji', kind: 'perangkat-daerah' },
    });
    expect(write.statusCode).toBe(503);
    expect(write.json()).toMatchObject({ code: 'SPL_UNAVAILABLE' });

    // The token endpoint keeps RFC 6749's JSON.
    const refused = await token();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ error: 'temporarily_unavailable' });

    // The pool's idle connections were ended by the server (57P01) and reported, not thrown.
    expect(idleErrors.length).toBeGreaterThan(0);
  });

  it('is back on its own once PostgreSQL is, without a restart', async () => {
    await postgres.resume();
    expect((await built.app.inject('/readyz')).statusCode).toBe(200);
    expect((await token()).statusCode).toBe(200);
    expect((await listApis()).statusCode).toBe(200);
    const write = await built.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { authorization: `Bearer ${bearer}` },
      payload: { slug: 'dinas-uji', name: 'Dinas Uji', kind: 'perangkat-daerah' },
    });
    expect(write.statusCode).toBe(201);
  });

  it('answers 503 within its timeout while PostgreSQL hangs, instead of holding the request, and is back when it answers', async () => {
    await postgres.freeze();
    const answers: Array<{ status: number; code: unknown; seconds: number }> = [];
    try {
      for (const call of [listApis, token, () => built.app.inject('/readyz')]) {
        const t0 = performance.now();
        const res = await call();
        const body = res.json();
        answers.push({
          status: res.statusCode,
          code: body.code ?? body.error ?? body.status,
          seconds: (performance.now() - t0) / 1000,
        });
      }
    } finally {
      await postgres.thaw();
    }
    expect(answers.map(({ status, code }) => [status, code])).toEqual([
      [503, 'SPL_UNAVAILABLE'],
      [503, 'temporarily_unavailable'],
      [503, 'not-ready'],
    ]);
    // Each within about one timeout (a statement on a held connection, or a new connection the
    // frozen server never greets), never for ever.
    for (const a of answers) expect(a.seconds).toBeLessThan((2 * HANG_TIMEOUT_MS) / 1000 + 2);
    expect((await listApis()).statusCode).toBe(200);
    expect((await token()).statusCode).toBe(200);
  }, 60_000);
});
