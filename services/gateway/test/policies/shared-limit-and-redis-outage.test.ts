import { Writable } from 'node:stream';
import { createMetricsRegistry } from '@spl/metrics';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLog } from '../../src/observability/access-log.js';
import { createStandardPolicies, type StandardPolicies } from '../../src/standard-policies.js';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, TEST_REDIS_URL, type TestGateway } from '../helpers/test-gateway.js';

const quietLog = () => createAccessLog({ destination: new Writable({ write: (_c, _e, done) => done() }) });

async function gatewayWithPolicies(
  registryUrl: string,
  redis: Redis,
  redisPrefix: string,
  failMode: 'open' | 'closed',
): Promise<{ gw: TestGateway; policies: StandardPolicies }> {
  const metrics = createMetricsRegistry('gateway');
  const policies = createStandardPolicies({
    redis,
    redisPrefix,
    failMode,
    registry: metrics,
    isEgressAllowed: () => true,
    floodPerSecond: 10_000,
    floodBurst: 10_000,
    accessLog: quietLog(),
  });
  const gw = await buildTestGateway({
    registryUrl,
    deps: {
      metrics,
      rateLimiter: policies.rateLimiter,
      requestValidator: policies.requestValidator,
      observer: policies.observer,
      extend: (app) => policies.install(app),
    },
  });
  return { gw, policies };
}

/**
 *   dinkes/kuota/v1  20 requests a minute for each application, shared by every gateway
 *   portal ── approved
 */
describe('the shared rate limit across gateway instances, and a Redis outage', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  const opened: Array<{ gw: TestGateway; policies: StandardPolicies }> = [];
  const connections: Redis[] = [];

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.openapi = {
      h1: {
        openapi: '3.1.0',
        info: { title: 'Kuota', version: '1' },
        paths: { '/x': { get: { responses: { 200: { description: 'ok' } } } } },
      },
    };
    hub.route({
      api: 'kuota',
      version: 'v1',
      urls: [upstream.url],
      plan: { requestsPerMinute: 20, bodyLimitBytes: 1024 },
    });
    hub.subscribe('app-portal', 'kuota', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
  });
  afterAll(async () => {
    for (const { gw, policies } of opened) {
      policies.close();
      await gw.close();
    }
    for (const c of connections) c.disconnect();
    await upstream?.stop();
    await registry?.stop();
  });

  const liveRedis = async () => {
    const r = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    connections.push(r);
    await new Promise<void>((ok) => r.once('ready', () => ok()));
    return r;
  };
  const deadRedis = () => {
    const r = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => {});
    connections.push(r);
    return r;
  };

  it('accepts no more than limit + instances × lease across two gateways', async () => {
    const prefix = `test-shared-${Date.now()}`;
    const a = await gatewayWithPolicies(registry.url, await liveRedis(), prefix, 'open');
    const b = await gatewayWithPolicies(registry.url, await liveRedis(), prefix, 'open');
    opened.push(a, b);
    const token = await hub.token();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const gw = i % 2 === 0 ? a.gw : b.gw;
      const res = await gw.app.inject({
        url: '/dinkes/kuota/v1/x',
        headers: { authorization: `Bearer ${token}` },
      });
      statuses.push(res.statusCode);
    }
    const accepted = statuses.filter((s) => s === 200).length;
    // docs/gateway.md: accepted ≤ limit + instances × lease; a lease is at most a tenth of the limit (2).
    expect(accepted).toBeLessThanOrEqual(20 + 2 * 2);
    expect(accepted).toBeGreaterThanOrEqual(20 - 2 * 2);
    expect(statuses.filter((s) => s === 429).length).toBe(60 - accepted);
  });

  it('keeps serving when Redis is unreachable and the limit fails open', async () => {
    const open = await gatewayWithPolicies(registry.url, deadRedis(), `test-open-${Date.now()}`, 'open');
    opened.push(open);
    const res = await open.gw.app.inject({
      url: '/dinkes/kuota/v1/x',
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 503 with Retry-After when Redis is unreachable and the limit fails closed', async () => {
    const closed = await gatewayWithPolicies(
      registry.url,
      deadRedis(),
      `test-closed-${Date.now()}`,
      'closed',
    );
    opened.push(closed);
    const res = await closed.gw.app.inject({
      url: '/dinkes/kuota/v1/x',
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
    expect(res.statusCode).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    // Readiness is about the snapshot, not Redis: an orchestrator must not pull the instance.
    expect((await closed.gw.app.inject('/readyz')).statusCode).toBe(200);
  });
});
