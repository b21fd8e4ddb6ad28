import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { testEnv } from '../helpers/test-broker.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

function runToExit(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url))], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((ok) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      ok({ code, stderr });
    }),
  );
}

/** Issue 5 §6, issue 4 §5: in production an evictable Redis is refused, not just warned about. */
describe('broker in production on a Redis that may evict', () => {
  const redis = new OwnRedis();
  const work = mkdtempSync(join(tmpdir(), 'spl-broker-prod-'));
  let env: Record<string, string>;

  beforeAll(async () => {
    await redis.start();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();
    const hub = await HubFixture.create();
    hub.topic();
    const snapshotFile = join(work, 'snapshot.json');
    writeFileSync(snapshotFile, JSON.stringify(hub.snapshot()));
    env = {
      ...testEnv({ prefix: 'prod-check', dataDir: join(work, 'data'), snapshotFile, redisUrl: redis.url }),
      SPL_MODE: 'production',
      SPL_PUBLIC_URL: 'https://spl.example.go.id',
      SPL_BEHIND_TLS_PROXY: 'true',
      SPL_BROKER_PORT: String(await freePort()),
    };
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the publish API and the delivery worker both refuse to start, naming the policy', async () => {
    const [api, worker] = await Promise.all([
      runToExit('../../src/server.ts', env),
      runToExit('../../src/worker.ts', env),
    ]);
    for (const run of [api, worker]) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/maxmemory-policy is allkeys-lru, not noeviction/);
    }
  }, 60_000);
});
