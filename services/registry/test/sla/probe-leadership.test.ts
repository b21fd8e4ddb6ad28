import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../src/redis-keys.js';
import {
  deleteRedisPrefix,
  openTestDatabase,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from '../helpers/test-registry.js';
import { insertSlaVersion, startUpstream, waitFor } from './sla-fixtures.js';

const SERVICE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INTERVAL_MS = 1_000;
const LEASE_MS = 2_000;

/**
 * Two registry processes on one PostgreSQL schema and one Redis prefix (issue 5 §1: "from
 * one place even when several instances run … no gap when one instance dies"):
 *
 *   A ─┐                  ┌─ probes every second while it holds the lease
 *      ├─ lease in Redis ─┤
 *   B ─┘                  └─ waits; takes the lease within its TTL once A is SIGKILLed
 */
describe('probe leadership across registry instances', () => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('probes from one instance at a time, and the other takes over within the lease when the leader dies', async () => {
    const upstream = await startUpstream(() => 204);
    cleanups.push(upstream.close);
    const { db, schema, drop } = await openTestDatabase('postgres');
    cleanups.push(drop);
    const prefix = `test-${randomBytes(5).toString('hex')}`;
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      await deleteRedisPrefix(redis, prefix);
      redis.disconnect();
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'spl-sla-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env = {
      ...process.env,
      DATABASE_URL: url.toString(),
      REDIS_URL: TEST_REDIS_URL,
      SPL_REDIS_PREFIX: prefix,
      SPL_REGISTRY_PORT: '0',
      SPL_DATA_DIR: dataDir,
      SPL_MASTER_KEY: randomBytes(32).toString('hex'),
      SPL_BOOTSTRAP_CLIENT_ID: 'bootstrap-operator',
      SPL_BOOTSTRAP_CLIENT_SECRET: 'bootstrap-secret-for-tests-only-0123456789',
      SPL_PROBE_SECONDS: String(INTERVAL_MS / 1000),
      SPL_PROBE_LEASE_SECONDS: String(LEASE_MS / 1000),
      SPL_EGRESS_ALLOW: '127.0.0.1',
      SPL_LOG_LEVEL: 'warn',
    };
    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: SERVICE_DIR,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };

    const a = start();
    await waitFor(
      'the first instance to migrate',
      async () =>
        (await db.query<{ name: string }>('SELECT name FROM schema_migrations').catch(() => [])).some(
          (m) => m.name === '0005_sla.sql',
        ),
      60_000,
    );
    const { versionId } = await insertSlaVersion(
      { db },
      { org: 'dinkes', api: 'rujukan', upstream: { urls: [upstream.url] } },
    );
    const b = start();
    const keys = createRedisKeys(prefix);
    const leaderPid = async () =>
      Number(/-(\d+)-[0-9a-f-]{36}$/.exec((await redis.get(keys.probeLease)) ?? '')?.[1]);
    const results = async () =>
      (
        await db.query<{ at: Date }>('SELECT at FROM probe_results WHERE version_id = $1 ORDER BY at', [
          versionId,
        ])
      ).map((r) => new Date(r.at).getTime());

    // Both running for a while: one lease holder, one probe per interval.
    await waitFor('six rounds', async () => (await results()).length >= 6, 60_000);
    const first = await leaderPid();
    expect([a.pid, b.pid]).toContain(first);
    const leader = first === a.pid ? a : b;
    const survivor = leader === a ? b : a;

    leader.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the survivor to take the lease', async () => (await leaderPid()) === survivor.pid, 10_000);
    await waitFor(
      'three rounds by the survivor',
      async () => (await results()).filter((t) => t > killedAt).length >= 3,
      15_000,
    );

    const all = await results();
    const gaps = all.slice(1).map((t, i) => t - all[i]!);
    // No double probing: never two rounds within half an interval of each other.
    expect(Math.min(...gaps), `gaps between rounds: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(
      INTERVAL_MS / 2,
    );
    // No gap longer than the lease (plus the interval it waits out and a renew tick).
    const lastBefore = Math.max(...all.filter((t) => t <= killedAt));
    const firstAfter = Math.min(...all.filter((t) => t > killedAt));
    expect(firstAfter - lastBefore).toBeLessThanOrEqual(LEASE_MS + INTERVAL_MS + 1_000);
    // Every probe the upstream saw is stored (a round in flight may not be yet).
    expect(upstream.seen.length - all.length).toBeGreaterThanOrEqual(0);
    expect(upstream.seen.length - all.length).toBeLessThanOrEqual(1);
  }, 120_000);
});
