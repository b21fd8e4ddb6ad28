import { randomBytes } from 'node:crypto';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The one place a registry test reaches into the gateway: this test is about the pair.
import { createUsageAggregator, type UsageAggregator } from '../../../gateway/src/usage/usage-aggregator.js';
import { buildApp, type RegistryApp } from '../../src/app.js';
import { loadRegistryConfig } from '../../src/config.js';
import { createRedisKeys } from '../../src/redis-keys.js';
import type { Database } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { insertUsageRecords } from '../../src/usage/insert-usage-records.js';
import { parseUsageEntry } from '../../src/usage/usage-record.js';
import {
  bearer,
  deleteRedisPrefix,
  openTestDatabase,
  TEST_ISSUER,
  TEST_REDIS_URL,
} from '../helpers/test-registry.js';

/**
 * Issue 3, point 11: "1,000 calls appear exactly once within two minutes, even when the
 * registry restarts in the middle of ingesting".
 *
 *   4 gateway processes ──XADD──► stream ──► registry A (stopped after some batches)
 *   a consumer that crashed        │         └ registry B (claims what A and the crashed
 *   after INSERT, before XACK ─────┘           consumer left, reads the rest)
 *   + one record XADDed twice
 *
 * The sum of counts in usage_minutes must be exactly 1,000 and every record id once.
 */

const CALLS = 1_000;
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const ROUTES = [
  { id: 'r-kependudukan-v1', org: 'disdukcapil', api: 'kependudukan', version: 'v1' },
  { id: 'r-kependudukan-v2', org: 'disdukcapil', api: 'kependudukan', version: 'v2' },
];

describe('usage records, exactly once', () => {
  let db: Database;
  let drop: () => Promise<void>;
  let redis: Redis;
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const stream = createRedisKeys(prefix).usageStream;
  const config = loadRegistryConfig({
    SPL_PUBLIC_URL: TEST_ISSUER,
    SPL_REDIS_PREFIX: prefix,
    REDIS_URL: TEST_REDIS_URL,
    SPL_BOOTSTRAP_CLIENT_ID: 'bootstrap-operator',
    SPL_BOOTSTRAP_CLIENT_SECRET: 'bootstrap-secret-for-tests-only-0123456789',
    SPL_LOG_LEVEL: 'silent',
  });
  const secretBox = createSecretBox(randomBytes(32));
  const startRegistry = () =>
    buildApp({
      config,
      db,
      redis,
      secretBox,
      logger: false,
      usage: { batchSize: 7, blockMs: 200, claimIdleMs: 300, claimIntervalMs: 250 },
    });

  beforeAll(async () => {
    ({ db, drop } = await openTestDatabase('postgres'));
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await deleteRedisPrefix(redis, prefix).catch(() => {});
    redis.disconnect();
    await drop();
  });

  const sumOfCounts = async () =>
    Number((await db.query<{ n: number | null }>('SELECT sum(count) AS n FROM usage_minutes'))[0]!.n ?? 0);

  async function waitFor(what: string, done: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const until = Date.now() + ms;
    while (!(await done())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('stores 1,000 calls exactly once across a registry restart, a crashed consumer and a re-sent record', async () => {
    // Four gateway processes, 250 calls each over three minutes, many applications and
    // both status classes: a few hundred aggregates, so the restart lands mid-stream.
    let t = T0;
    const gateways: UsageAggregator[] = [0, 1, 2, 3].map((g) =>
      createUsageAggregator({ redis, stream, now: () => t, instanceId: `gw-${g}`, flushIntervalMs: 0 }),
    );
    for (let i = 0; i < CALLS; i++) {
      t = T0 + Math.floor((i / CALLS) * 3 * 60_000);
      gateways[i % 4]!.record(
        ROUTES[i % 2]!,
        `app-${i % 37}`,
        TEST_ISSUER,
        i % 11 === 0 ? 503 : 200,
        100,
        1_000,
        i % 300,
      );
    }
    await Promise.all(gateways.map((g) => g.close()));
    const entries = await redis.xrange(stream, '-', '+');
    const records = entries.map(([, f]) => parseUsageEntry(f)!);
    expect(records.reduce((n, r) => n + r.count, 0)).toBe(CALLS);
    expect(records.length).toBeGreaterThan(200);

    // A consumer that died between INSERT and XACK: 20 entries delivered to it, 10 stored.
    await migrate(db);
    await redis.xgroup('CREATE', stream, 'registry', '0', 'MKSTREAM');
    const crashed = (await redis.xreadgroup(
      'GROUP',
      'registry',
      'crashed',
      'COUNT',
      20,
      'STREAMS',
      stream,
      '>',
    )) as Array<[string, Array<[string, string[]]>]>;
    const crashedRecords = crashed[0]![1].map(([, f]) => parseUsageEntry(f)!);
    await db.transaction((tx) => insertUsageRecords(tx, crashedRecords.slice(0, 10)));

    // Registry A ingests a part, then stops (a deploy, a crash of the pod).
    const a: RegistryApp = await startRegistry();
    await waitFor('registry A to store a part', async () => (await sumOfCounts()) > 50);
    await a.app.close();
    const afterA = await sumOfCounts();
    expect(afterA).toBeLessThan(CALLS);

    // A gateway re-sends a record it had already written (its XADD reply was lost).
    await redis.xadd(stream, '*', 'record', JSON.stringify(records[0]));

    // Registry B takes over: new entries, A's unacknowledged ones and the crashed consumer's.
    const b: RegistryApp = await startRegistry();
    try {
      await waitFor('the stream to drain', async () => {
        const pending = (await redis.xpending(stream, 'registry')) as [number, ...unknown[]];
        return pending[0] === 0 && (await redis.xlen(stream)) === 0;
      });
      expect(await sumOfCounts()).toBe(CALLS);
      const [row] = await db.query<{ rows: number; ids: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT record_id)::int AS ids FROM usage_minutes',
      );
      expect(row).toEqual({ rows: records.length, ids: records.length });

      // The same record once more, after everything settled: still 1,000.
      await redis.xadd(stream, '*', 'record', JSON.stringify(records[records.length - 1]));
      await waitFor('the duplicate to be consumed', async () => (await redis.xlen(stream)) === 0);
      expect(await sumOfCounts()).toBe(CALLS);

      // And the report says so.
      const tokenRes = await b.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: config.SPL_BOOTSTRAP_CLIENT_ID!,
          client_secret: config.SPL_BOOTSTRAP_CLIENT_SECRET!,
        }).toString(),
      });
      const report = await b.app.inject({
        method: 'GET',
        url: '/v1/usage?org=disdukcapil&from=2025-03-01T10:00:00Z&to=2025-03-01T11:00:00Z&granularity=minute',
        headers: bearer(tokenRes.json().access_token),
      });
      expect(report.statusCode).toBe(200);
      const items = report.json().items as Array<{ count: number; latency: number[] }>;
      expect(items.reduce((n, i) => n + i.count, 0)).toBe(CALLS);
      expect(items.reduce((n, i) => n + i.latency.reduce((a, b) => a + b, 0), 0)).toBe(CALLS);
    } finally {
      await b.app.close();
    }
  });
});
