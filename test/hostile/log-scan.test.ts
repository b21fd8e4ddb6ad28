import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../packages/metrics/src/index.js';
import { HubFixture as BrokerHub } from '../../services/broker/test/helpers/hub-fixture.js';
import { Receiver, sleep } from '../../services/broker/test/helpers/receiver.js';
import { buildTestBroker } from '../../services/broker/test/helpers/test-broker.js';
import { createAccessLog } from '../../services/gateway/src/observability/access-log.js';
import { createStandardPolicies } from '../../services/gateway/src/standard-policies.js';
import { HubFixture as GatewayHub } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import { buildTestGateway, TEST_REDIS_URL } from '../../services/gateway/test/helpers/test-gateway.js';
import { buildTestRegistry } from '../../services/registry/test/helpers/test-registry.js';
import { LogCapture } from './helpers/log-capture.js';

/**
 * Every log line the three services write at `trace` while they handle secrets, tokens and
 * `dikecualikan` values, in good requests and in refused ones, is scanned for those values
 * (ARCHITECTURE: "No secret, token or restricted field … is ever written to a log";
 * BKS 59(9)(c)). The fuzz files scan their own logs for the tokens they used as well.
 */
const NIK = '3171000000000001';
const MOTHER = 'Siti Rahayu Dikecualikan';

describe('the logs of the hub', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('of the registry hold no client secret or token, issued, used or mistyped', async () => {
    const logs = new LogCapture();
    const registry = await buildTestRegistry({ logger: logs.logger });
    cleanup.push(() => registry.close());
    await registry.organisation('dinkes');
    const person = await registry.person({ org: 'dinkes', roles: ['operator'] });
    const secrets = [
      registry.bootstrap.clientSecret,
      person.clientSecret,
      person.token,
      await registry.operatorToken(),
    ];
    const form = (secret: string) =>
      registry.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: person.clientId,
          client_secret: secret,
        }).toString(),
      });
    const wrong = `${person.clientSecret.slice(0, -4)}XXXX`;
    secrets.push(wrong);
    expect((await form(wrong)).statusCode).toBe(401);
    expect((await form(person.clientSecret)).statusCode).toBe(200);
    const basic = await registry.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${person.clientId}:${wrong}`).toString('base64')}`,
      },
      payload: 'grant_type=client_credentials',
    });
    expect(basic.statusCode).toBe(401);
    // A token sent where it is refused, and in a query string where it does not belong.
    await registry.app.inject({ method: 'GET', url: `/v1/organisations?access_token=${person.token}` });
    await registry.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { authorization: `Bearer ${person.token}` },
      payload: { slug: 'x', name: NIK, clientSecret: person.clientSecret },
    });
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.leaks(secrets)).toEqual([]);
  });

  it('of the gateway hold no token, upstream secret, NIK or dikecualikan value, whatever the answer', async () => {
    const logs = new LogCapture();
    const access = new LogCapture();
    const hub = await GatewayHub.create();
    const upstream = await new TestUpstream().start();
    const route = hub.route({
      api: 'penduduk',
      version: 'v1',
      urls: [upstream.url],
      restrictedFields: ['nama_ibu'],
    });
    route.upstreamAuth = hub.headerAuth(route.id, 'X-Api-Key', 'upstream-secret-value-for-log-scan');
    hub.route({ api: 'mati', version: 'v1', urls: ['http://127.0.0.1:1'], restrictedFields: ['nama_ibu'] });
    hub.subscribe('app-portal', 'penduduk', 'v1');
    hub.subscribe('app-portal', 'mati', 'v1');
    const registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    const limiterRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const policies = createStandardPolicies({
      redis: limiterRedis,
      redisPrefix: `test-logscan-${process.pid}`,
      failMode: 'open',
      registry: createMetricsRegistry('gateway'),
      isEgressAllowed: () => true,
      floodPerSecond: 10_000,
      floodBurst: 10_000,
      accessLog: createAccessLog({ destination: access.stream }),
    });
    const gw = await buildTestGateway({
      registryUrl: registry.url,
      deps: {
        logger: logs.logger,
        rateLimiter: policies.rateLimiter,
        observer: policies.observer,
        extend: (app) => policies.install(app),
      },
    });
    cleanup.push(async () => {
      policies.close();
      await gw.close();
      limiterRedis.disconnect();
      await upstream.stop();
      await registry.stop();
    });
    const token = await hub.token();
    const other = await hub.token('dashboard-client');
    const secrets = [
      token,
      other,
      'upstream-secret-value-for-log-scan',
      registry.clientSecret,
      NIK,
      MOTHER,
      encodeURIComponent(MOTHER),
    ];
    const query = `?nik=${NIK}&nama_ibu=${encodeURIComponent(MOTHER)}`;
    const requests: Array<[string, string, Record<string, string>, string?]> = [
      ['GET', `/dinkes/penduduk/v1/warga/${NIK}${query}`, { authorization: `Bearer ${token}` }],
      [
        'POST',
        `/dinkes/penduduk/v1/warga${query}`,
        { authorization: `Bearer ${token}` },
        JSON.stringify({ nik: NIK, nama_ibu: MOTHER }),
      ],
      ['GET', `/dinkes/penduduk/v1/warga/${NIK}${query}`, { authorization: `Bearer ${other}` }],
      [
        'GET',
        `/dinkes/penduduk/v1/warga/${NIK}${query}`,
        { authorization: `Bearer ${token.slice(0, -3)}abc` },
      ],
      ['GET', `/dinkes/penduduk/v1/warga/${NIK}/%zz${query}`, { authorization: `Bearer ${token}` }],
      ['GET', `/dinkes/tidak-ada/v1/warga/${NIK}${query}`, { authorization: `Bearer ${token}` }],
      ['GET', `/dinkes/mati/v1/warga/${NIK}${query}`, { authorization: `Bearer ${token}` }],
      [
        'POST',
        '/oauth2/token',
        { 'content-type': 'application/x-www-form-urlencoded' },
        `grant_type=client_credentials&client_id=portal-client&client_secret=${registry.clientSecret}`,
      ],
    ];
    for (const [method, url, headers, payload] of requests)
      await gw.app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) });
    policies.close();
    await sleep(300);
    expect(access.lines.length).toBeGreaterThan(0);
    expect({ app: logs.leaks(secrets), access: access.leaks(secrets) }).toEqual({ app: [], access: [] });
  });

  it('of the broker API and delivery worker hold no token, webhook secret or NIK, across retries', async () => {
    const api = new LogCapture();
    const worker = new LogCapture();
    const hub = await BrokerHub.create();
    const receiver = await new Receiver().start();
    // Fails twice, then takes it: retries and their errors are logged.
    receiver.handler = (_r, res, n) => res.writeHead(n < 3 ? 500 : 204).end();
    const { secrets: webhookSecrets } = hub.push(hub.topic(), `${receiver.url}/hook?nik=${NIK}`);
    const broker = await buildTestBroker(hub, {
      env: { SPL_LOG_LEVEL: 'trace' },
      logger: api.logger,
      workerLogStream: worker.stream,
    });
    cleanup.push(async () => {
      await broker.close();
      receiver.server.close();
    });
    const token = await hub.token();
    const publish = (body: unknown, auth = token) =>
      fetch(`${broker.url}/v1/topics/disdukcapil/kelahiran/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${auth}` },
        body: JSON.stringify(body),
      });
    const event = {
      specversion: '1.0',
      id: 'log-scan-1',
      source: '/disdukcapil/sipduk',
      type: 'go.id.kota.kelahiran.dicatat',
      data: { nik: NIK, name: MOTHER },
    };
    expect((await publish(event)).status).toBe(202);
    await publish({ ...event, id: 'log-scan-2', data: { nik: `${NIK}X`, name: MOTHER } });
    await publish(event, `${token.slice(0, -3)}abc`);
    for (let i = 0; i < 100 && receiver.received.length < 3; i++) await sleep(50);
    expect(receiver.received.length).toBeGreaterThanOrEqual(3);
    const secrets = [
      token,
      ...webhookSecrets,
      ...webhookSecrets.map((s) => s.slice('whsec_'.length)),
      NIK,
      MOTHER,
    ];
    // The worker logs little (start, stop, failures of its own); its lines are scanned all the same.
    expect(api.lines.length).toBeGreaterThan(0);
    expect({ api: api.leaks(secrets), worker: worker.leaks(secrets) }).toEqual({ api: [], worker: [] });
  });
});
