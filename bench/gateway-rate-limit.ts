/**
 * What the shared rate limit costs the gateway per request (issue 3, point 6): a `take` served
 * from a warm local lease against one EVALSHA round trip per request, the design the hot-path
 * note measured as the largest single policy cost.
 *
 *   pnpm exec tsx bench/gateway-rate-limit.ts      # Redis at REDIS_URL (default 127.0.0.1:6379)
 *
 * Prints wall-clock and CPU µs per take (CPU of this process, from process.cpuUsage: steadier
 * on shared cores, and what the gateway pays). Uses a random key prefix and deletes it after.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { LEASE_SCRIPT, LEASE_SCRIPT_SHA } from '../services/gateway/src/limits/lease-script.js';
import {
  createRateLimiter,
  type RateDecision,
  type RateLimiterOptions,
} from '../services/gateway/src/limits/rate-limiter.js';

type RedisClient = RateLimiterOptions['redis'];
// ioredis is the gateway's dependency, not the workspace root's.
const requireFromGateway = createRequire(new URL('../services/gateway/package.json', import.meta.url));
const { Redis } = requireFromGateway('ioredis') as {
  Redis: new (url: string, options?: Record<string, unknown>) => RedisClient;
};

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `spl-bench-${randomBytes(4).toString('hex')}`;
const HUGE = { requestsPerMinute: 1_000_000_000 };

interface Row {
  name: string;
  takes: number;
  wallUs: number;
  cpuUs: number;
}

async function measure(name: string, takes: number, run: () => Promise<void>): Promise<Row> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { name, takes, wallUs: (wallMs * 1000) / takes, cpuUs: (used.user + used.system) / takes };
}

async function takeSequentially(limiter: ReturnType<typeof createRateLimiter>, n: number, keys: string[]) {
  for (let i = 0; i < n; i++) {
    const d = limiter.take(keys[i % keys.length]!, HUGE);
    const decision: RateDecision = d instanceof Promise ? await d : d;
    if (!decision.allowed) throw new Error('refused under a huge limit');
  }
}

async function evalshaPerCall(redis: RedisClient, n: number, concurrency: number) {
  const window = Math.floor(Date.now() / 60_000);
  let next = 0;
  async function worker() {
    while (next++ < n)
      await redis.evalsha(
        LEASE_SCRIPT_SHA,
        2,
        `${prefix}:rate:{k}:m:${window}`,
        `${prefix}:rate:{k}:s:0`,
        HUGE.requestsPerMinute,
        1,
        61_000,
        0,
      );
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function main() {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
  const pipelined = new Redis(REDIS_URL, { enableOfflineQueue: false, enableAutoPipelining: true });
  await Promise.all([
    redis.ping().catch(() => new Promise((r) => setTimeout(r, 200))),
    pipelined.ping().catch(() => {}),
  ]);
  await redis.script('LOAD', LEASE_SCRIPT);
  const rows: Row[] = [];

  const oneKey = ['app-1:dinkes/faskes/v1'];
  const manyKeys = Array.from({ length: 1000 }, (_, i) => `app-${i}:dinkes/faskes/v1`);
  // A lease larger than the run: every measured take is a hit on the local lease.
  const warm = createRateLimiter({ redis, prefix, leaseSize: 10_000_000, failMode: 'open' });
  await takeSequentially(warm, 10_000, oneKey);
  rows.push(
    await measure('warm lease hit only (no refill in the run)', 1_000_000, () =>
      takeSequentially(warm, 1_000_000, oneKey),
    ),
  );
  warm.close();
  // Refills included: one EVALSHA per `leaseSize` takes, amortised.
  for (const leaseSize of [20, 100]) {
    const limiter = createRateLimiter({ redis, prefix, leaseSize, failMode: 'open' });
    await takeSequentially(limiter, 10_000, oneKey); // warm-up
    rows.push(
      await measure(`lease ${leaseSize}, 1 key`, 500_000, () => takeSequentially(limiter, 500_000, oneKey)),
    );
    rows.push(
      await measure(`lease ${leaseSize}, 1,000 keys`, 200_000, () =>
        takeSequentially(limiter, 200_000, manyKeys),
      ),
    );
    limiter.close();
  }
  await evalshaPerCall(redis, 2000, 1); // warm-up
  rows.push(await measure('EVALSHA per call, sequential', 20_000, () => evalshaPerCall(redis, 20_000, 1)));
  rows.push(await measure('EVALSHA per call, 50 in flight', 50_000, () => evalshaPerCall(redis, 50_000, 50)));
  rows.push(
    await measure('EVALSHA per call, 50 in flight, auto-pipelining', 50_000, () =>
      evalshaPerCall(pipelined, 50_000, 50),
    ),
  );

  console.log(`\nshared rate limit, µs per take (node ${process.version}, Redis ${REDIS_URL})\n`);
  console.log(`${'case'.padEnd(50)} ${'takes'.padStart(8)} ${'wall µs'.padStart(9)} ${'CPU µs'.padStart(8)}`);
  for (const row of rows)
    console.log(
      `${row.name.padEnd(50)} ${String(row.takes).padStart(8)} ${row.wallUs.toFixed(3).padStart(9)} ${row.cpuUs.toFixed(3).padStart(8)}`,
    );

  // Accuracy at a glance: two instances hammering one key of 100/min with leases of 10.
  const a = createRateLimiter({ redis, prefix, leaseSize: 10, failMode: 'open' });
  const b = createRateLimiter({ redis: pipelined, prefix, leaseSize: 10, failMode: 'open' });
  const attempts: (RateDecision | Promise<RateDecision>)[] = [];
  for (let i = 0; i < 1000; i++)
    attempts.push(a.take('acc', { requestsPerMinute: 100 }), b.take('acc', { requestsPerMinute: 100 }));
  const accepted = (await Promise.all(attempts)).filter((d) => d.allowed).length;
  console.log(
    `\ntwo instances, 2 × 1,000 takes, limit 100/min, lease 10: ${accepted} accepted (bound ≤ 120)\n`,
  );
  a.close();
  b.close();

  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  pipelined.disconnect();
}

await main();
