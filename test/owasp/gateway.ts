import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMetricsRegistry } from '../../packages/metrics/src/index.js';
import { createStandardPolicies } from '../../services/gateway/src/standard-policies.js';
import { HubFixture } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import {
  buildTestGateway,
  TEST_REDIS_URL,
  type TestGateway,
} from '../../services/gateway/test/helpers/test-gateway.js';
import { deleteRedisPrefix } from '../../services/registry/test/helpers/test-registry.js';

export { HubFixture, TestUpstream };

/**
 * The OWASP suite's gateway: the gateway tests' miniature hub (a snapshot served by a
 * stand-in registry), a real upstream on port 0, a real gateway on its own Redis prefix.
 *
 *   dinkes ─ faskes ─┬─ v1 published   → upstream (body limit 1024, 600/min)
 *                    └─ v2 deprecated  → upstream, Sunset 2027-01-01
 *   dinkes ─ rahasia ── v1 published, dikecualikan  → upstream
 *   disdukcapil ─ portal (portal-client) ─┬─ faskes v1, v2 approved
 *                                         └─ (nothing on rahasia)
 *   bappeda ─ dashboard (dashboard-client) ── faskes v1 suspended
 *
 * The gateway runs with its standard policies wired as services/gateway/src/server.ts wires
 * them (shared rate limit in Redis, per-IP flood guard, OpenAPI request validation), so the
 * attacks meet what production runs. `configure(hub, upstream)` may add routes before the
 * snapshot is served; `flood` sets SPL_FLOOD_PER_SECOND / SPL_FLOOD_BURST (default 1000).
 */
export interface OwaspGateway {
  hub: HubFixture;
  upstream: TestUpstream;
  registry: FakeRegistry;
  gw: TestGateway;
  close(): Promise<void>;
}

export async function buildOwaspGateway(
  options: {
    env?: Record<string, string>;
    flood?: { perSecond: number; burst: number };
    configure?: (hub: HubFixture, upstreamUrl: string) => void;
  } = {},
): Promise<OwaspGateway> {
  const hub = await HubFixture.create();
  const upstream = await new TestUpstream().start();
  // Every route's OpenAPI document: GET and POST of one path segment (the request validator
  // answers 400 to anything it does not declare).
  const any = { responses: { '200': { description: 'ok' } } };
  hub.openapi = {
    h1: {
      openapi: '3.1.0',
      info: { title: 'owasp', version: '1' },
      paths: {
        '/{p}': {
          parameters: [{ name: 'p', in: 'path', required: true, schema: { type: 'string' } }],
          get: any,
          post: any,
        },
      },
    },
  };
  hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
  hub.route({
    api: 'faskes',
    version: 'v2',
    urls: [upstream.url],
    state: 'deprecated',
    sunsetAt: '2027-01-01T00:00:00.000Z',
  });
  hub.route({ api: 'rahasia', version: 'v1', urls: [upstream.url], classification: 'dikecualikan' });
  hub.subscribe('app-portal', 'faskes', 'v1');
  hub.subscribe('app-portal', 'faskes', 'v2');
  hub.subscribe('app-dashboard', 'faskes', 'v1', 'suspended');
  options.configure?.(hub, upstream.url);
  const registry = await new FakeRegistry().start();
  registry.snapshot = hub.snapshot();
  const limiterRedis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise<void>((ok) => limiterRedis.once('ready', () => ok()));
  const metrics = createMetricsRegistry('gateway');
  const limiterPrefix = `test-owasp-${randomBytes(5).toString('hex')}`;
  const policies = createStandardPolicies({
    redis: limiterRedis,
    redisPrefix: limiterPrefix,
    failMode: 'open',
    registry: metrics,
    floodPerSecond: options.flood?.perSecond ?? 1000,
    floodBurst: options.flood?.burst ?? 1000,
    isEgressAllowed: (url) => url.hostname === '127.0.0.1',
  });
  const gw = await buildTestGateway({
    registryUrl: registry.url,
    ...(options.env ? { env: options.env } : {}),
    deps: {
      metrics,
      rateLimiter: policies.rateLimiter,
      requestValidator: policies.requestValidator,
      createFederatedVerifier: policies.createFederatedVerifier,
      observer: policies.observer,
      extend: (app) => policies.install(app),
    },
  });
  return {
    hub,
    upstream,
    registry,
    gw,
    async close() {
      policies.close();
      await gw.close();
      await deleteRedisPrefix(limiterRedis, limiterPrefix).catch(() => {});
      limiterRedis.disconnect();
      await upstream.stop();
      await registry.stop();
    },
  };
}
