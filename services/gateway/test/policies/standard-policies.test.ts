import { Writable } from 'node:stream';
import { createMetricsRegistry } from '@spl/metrics';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLog } from '../../src/observability/access-log.js';
import { createStandardPolicies, type StandardPolicies } from '../../src/standard-policies.js';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, TEST_REDIS_URL, type TestGateway } from '../helpers/test-gateway.js';

const NIK = '3299010101850001';

/**
 *   dinkes/penduduk/v1  GET /penduduk/{nik} (nik 16 digits), POST /verifikasi {nik, nama}
 *                       3 requests a minute (lease-based, shared through Redis)
 *   portal ── approved
 */
describe('the gateway with its standard policies', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let policies: StandardPolicies;
  let limiterRedis: Redis;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.openapi = {
      doc: {
        openapi: '3.1.0',
        info: { title: 'Penduduk', version: '1' },
        paths: {
          '/penduduk/{nik}': {
            get: {
              parameters: [
                {
                  name: 'nik',
                  in: 'path',
                  required: true,
                  schema: { type: 'string', pattern: '^[0-9]{16}$' },
                },
              ],
              responses: { 200: { description: 'ok' } },
            },
          },
          '/verifikasi': {
            post: {
              requestBody: {
                required: true,
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      required: ['nik', 'nama'],
                      additionalProperties: false,
                      properties: {
                        nik: { type: 'string', 'x-spl-classification': 'dikecualikan' },
                        nama: { type: 'string' },
                      },
                    },
                  },
                },
              },
              responses: { 200: { description: 'ok' } },
            },
          },
        },
      },
    };
    hub.route({
      api: 'penduduk',
      version: 'v1',
      urls: [upstream.url],
      openapiHash: 'doc',
      restrictedFields: ['nik'],
      plan: { requestsPerMinute: 3, bodyLimitBytes: 4096 },
    });
    hub.subscribe('app-portal', 'penduduk', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();

    limiterRedis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise<void>((ok) => limiterRedis.once('ready', () => ok()));
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    const metrics = createMetricsRegistry('gateway');
    policies = createStandardPolicies({
      redis: limiterRedis,
      redisPrefix: `test-policies-${Date.now()}`,
      failMode: 'open',
      registry: metrics,
      isEgressAllowed: () => true,
      floodPerSecond: 1000,
      floodBurst: 1000,
      accessLog: createAccessLog({ destination: sink }),
    });
    gw = await buildTestGateway({
      registryUrl: registry.url,
      deps: {
        metrics,
        rateLimiter: policies.rateLimiter,
        requestValidator: policies.requestValidator,
        createFederatedVerifier: policies.createFederatedVerifier,
        observer: policies.observer,
        extend: (app) => policies.install(app),
      },
    });
  });
  afterAll(async () => {
    policies?.close();
    await gw?.close();
    limiterRedis?.disconnect();
    await upstream?.stop();
    await registry?.stop();
  });

  const call = async (method: string, url: string, payload?: object) =>
    gw.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${await hub.token()}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });

  it('refuses a request that fails the API’s OpenAPI document with 400, echoing no value', async () => {
    const res = await call('POST', '/dinkes/penduduk/v1/verifikasi', { nik: NIK, nama: 'Budi', umur: 40 });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body).not.toContain(NIK);
    expect(upstream.seen).toHaveLength(0);
  });

  it('forwards a valid request with RateLimit headers, then limits the application with 429 and Retry-After', async () => {
    const ok = await call('GET', `/dinkes/penduduk/v1/penduduk/${NIK}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['ratelimit-limit']).toBeDefined();
    let limited = ok;
    for (let i = 0; i < 5 && limited.statusCode !== 429; i++)
      limited = await call('GET', `/dinkes/penduduk/v1/penduduk/${NIK}`);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().code).toBe('SPL_RATE_LIMITED');
  });

  it('writes one access-log line per request with the NIK masked', async () => {
    policies.accessLog.flush();
    await new Promise((r) => setTimeout(r, 50));
    const lines = logLines.filter((l) => l.api === 'penduduk');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(logLines)).not.toContain(NIK);
    expect(lines.some((l) => String(l.url).includes('[nik]'))).toBe(true);
    expect(lines[0]).toMatchObject({
      org: 'dinkes',
      api: 'penduduk',
      version: 'v1',
      application: 'disdukcapil/portal',
    });
  });

  it('counts requests by route, application and status in /metrics', async () => {
    const text = (await gw.app.inject('/metrics')).body;
    expect(text).toMatch(/spl_gateway_requests_total\{[^}]*api="penduduk"[^}]*status="200"[^}]*\} \d+/);
    expect(text).toMatch(/spl_gateway_requests_total\{[^}]*status="429"[^}]*\} \d+/);
    expect(text).toMatch(/spl_gateway_snapshot_version/);
  });
});
