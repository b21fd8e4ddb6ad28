import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createMetricsRegistry } from '@spl/metrics';
import { Redis } from 'ioredis';
import { createAccessLog } from '../../src/observability/access-log.js';
import { createStandardPolicies, type StandardPolicies } from '../../src/standard-policies.js';
import { buildTestGateway, TEST_REDIS_URL, type TestGateway } from './test-gateway.js';

export interface ObservedGateway extends TestGateway {
  policies: StandardPolicies;
  /** The value GET /metrics shows for the first series of `name` with these labels; undefined when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

/**
 * A test gateway with the standard policies installed as server.ts installs them, so
 * /metrics shows what an operator would see. The rate limiter uses the real Redis under a
 * random prefix, whose keys are deleted on close.
 */
export async function buildObservedGateway(options: {
  registryUrl: string;
  env?: Record<string, string>;
}): Promise<ObservedGateway> {
  const limiterPrefix = `test-${randomBytes(5).toString('hex')}`;
  const limiterRedis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise<void>((ok) => limiterRedis.once('ready', () => ok()));
  const metrics = createMetricsRegistry('gateway');
  const policies = createStandardPolicies({
    redis: limiterRedis,
    redisPrefix: limiterPrefix,
    failMode: 'open',
    registry: metrics,
    isEgressAllowed: () => true,
    floodPerSecond: 10_000,
    floodBurst: 10_000,
    accessLog: createAccessLog({
      destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
    }),
  });
  const gw = await buildTestGateway({
    registryUrl: options.registryUrl,
    ...(options.env ? { env: options.env } : {}),
    deps: {
      metrics,
      rateLimiter: policies.rateLimiter,
      observer: policies.observer,
      extend: (app) => policies.install(app),
    },
  });
  return {
    ...gw,
    policies,
    async metric(name, labels = {}) {
      const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body;
      const wanted = Object.entries(labels).map(([label, value]) => `${label}=${JSON.stringify(value)}`);
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return undefined;
    },
    async close() {
      policies.close();
      await gw.close();
      const keys = await limiterRedis.keys(`${limiterPrefix}:*`);
      if (keys.length) await limiterRedis.del(...keys);
      limiterRedis.disconnect();
    },
  };
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; resolves with its last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
