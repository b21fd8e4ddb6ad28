import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../../services/gateway/test/helpers/test-gateway.js';
import { LogCapture } from './helpers/log-capture.js';
import { fuzzOperations, listOperations, type Operation, printReport } from './helpers/openapi-fuzz.js';

/**
 * Every operation of the gateway's /docs/json, and the forwarding route of one published API,
 * fuzzed with hostile requests:
 *
 *   dinkes/faskes/v1 → upstream (header auth, sealed secret), body limit 1 KiB, JSON schema
 *   disdukcapil/portal (portal-client) subscribed
 *
 * Oracle: never 5xx, every 4xx problem+json (RFC 6749 JSON at /oauth2/token), /healthz 200.
 */
describe('the gateway under hostile input', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const logs = new LogCapture();
  const secrets: string[] = ['upstream-secret-value', 'gateway-dataplane-secret-0123456789'];

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    const route = hub.route({
      api: 'faskes',
      version: 'v1',
      urls: [upstream.url],
      plan: { requestsPerMinute: 100_000, bodyLimitBytes: 1024 },
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
    });
    route.upstreamAuth = hub.headerAuth(route.id, 'X-Api-Key', 'upstream-secret-value');
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url, deps: { logger: logs.logger } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });

  it('answers every operation and the forwarding route with a 4xx problem+json or a success, never 5xx', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const forwarding: Operation[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].map((method) => ({
      method,
      path: '/dinkes/faskes/v1/{rest}',
      pathParams: ['rest'],
      queryParams: ['nik', 'q'],
      bodyProperties: ['nik', 'name'],
      hasBody: method !== 'GET' && method !== 'DELETE',
    }));
    const operations = [...listOperations(doc), ...forwarding];
    const token = await hub.token();
    secrets.push(token);
    const report = await fuzzOperations({
      service: 'gateway',
      operations,
      tokens: [token],
      numRuns: Number(process.env.SPL_FUZZ_RUNS ?? 25),
      inject: (req) => gw.app.inject(req),
    });
    printReport(report);
    expect((await gw.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(report.failures).toEqual([]);
    // Whatever reached the upstream carried the gateway's secret, never the consumer's token.
    for (const seen of upstream.seen) expect(JSON.stringify(seen.headers)).not.toContain(token);
  });

  it('wrote no secret or token it was given to its log', () => {
    expect(logs.leaks(secrets)).toEqual([]);
  });
});
