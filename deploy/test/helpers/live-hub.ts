import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildObservedGateway,
  type ObservedGateway,
} from '../../../services/gateway/test/helpers/observed-gateway.js';
import { DEMO_SECRETS, loadDemoHub } from '../../../services/registry/test/helpers/demo-hub.js';
import {
  bearer,
  buildTestRegistry,
  TEST_ISSUER,
  type TestRegistry,
} from '../../../services/registry/test/helpers/test-registry.js';

/** The demo API as the gateway publishes it. */
export const DEMO_API = '/disdukcapil/kependudukan/v1';
/** The demo API's plan in this hub: few enough calls a minute that the test reaches a 429. */
const REQUESTS_PER_MINUTE = 20;

export interface LiveHub {
  registry: TestRegistry;
  gateway: ObservedGateway;
  /** GET /metrics of each service, as Prometheus would scrape it. */
  scrape(service: 'registry' | 'gateway'): Promise<string>;
  /** The statuses the traffic got, in order. */
  statuses: number[];
  close(): Promise<void>;
}

/**
 * A registry and a gateway built as their tests build them (real PostgreSQL schema, real
 * Redis prefix), the demo hub applied through every approval gate with its upstream on a
 * port of this test, and traffic through the gateway that a labelled series needs before it
 * shows a sample: 200s, a 401, an upstream 500 and 429s.
 *
 *   consumer dinkes/sistem-rujukan ─token─► gateway ─► upstream (200; 500 under /fail)
 *                                             │ snapshot
 *                                          registry ◄─ apply (operator, reviewer, publisher, owner)
 */
export async function startLiveHub(): Promise<LiveHub> {
  const upstream = await startUpstream();
  const registry = await buildTestRegistry();
  let gateway: ObservedGateway | undefined;
  const close = async () => {
    await gateway?.close();
    await registry.close();
    await new Promise((done) => upstream.server.close(() => done(undefined)));
  };
  try {
    const registryUrl = await registry.app.listen({ host: '127.0.0.1', port: 0 });
    await applyDemoHub(registry, upstream.url);
    const operator = await registry.operatorToken();
    const created = await registry.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(operator),
      payload: { name: 'gateway' },
    });
    if (created.statusCode !== 201)
      throw new Error(`dataplane client: ${created.statusCode} ${created.body}`);
    const client = created.json() as { clientId: string; clientSecret: string };

    gateway = await buildObservedGateway({
      registryUrl,
      env: {
        // The registry issues the tokens, so its issuer is the hub's.
        SPL_PUBLIC_URL: TEST_ISSUER,
        SPL_GATEWAY_CLIENT_ID: client.clientId,
        SPL_GATEWAY_CLIENT_SECRET: client.clientSecret,
        SPL_REDIS_PREFIX: registry.prefix,
      },
    });
    const statuses = await driveTraffic(registry, gateway);
    const g = gateway;
    return {
      registry,
      gateway: g,
      statuses,
      async scrape(service) {
        const app = service === 'registry' ? registry.app : g.app;
        const res = await app.inject({ method: 'GET', url: '/metrics' });
        if (res.statusCode !== 200) throw new Error(`${service} /metrics: ${res.statusCode}`);
        return res.body;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const isFailing = request.url?.includes('/fail') ?? false;
    response.writeHead(isFailing ? 500 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ok: !isFailing }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** demo/hub.yaml, with this test's upstream and a small plan, through each approval gate. */
async function applyDemoHub(registry: TestRegistry, upstreamUrl: string): Promise<void> {
  const doc = loadDemoHub() as { apis: { versions: Record<string, unknown>[] }[] };
  for (const api of doc.apis)
    for (const version of api.versions) {
      version.upstream = { urls: [upstreamUrl], timeoutMs: 2000 };
      version.plan = { requestsPerMinute: REQUESTS_PER_MINUTE, burst: 5, bodyLimitBytes: 65536 };
    }
  const passes: Array<[string, string]> = [
    [registry.bootstrap.clientId, registry.bootstrap.clientSecret],
    ['demo-operator', DEMO_SECRETS.SPL_DEMO_OPERATOR_SECRET!],
    ['demo-reviewer', DEMO_SECRETS.SPL_DEMO_REVIEWER_SECRET!],
    ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
    ['demo-consumer', DEMO_SECRETS.SPL_DEMO_CONSUMER_OWNER_SECRET!],
    ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
  ];
  for (const [clientId, secret] of passes) {
    const res = await registry.app.inject({
      method: 'POST',
      url: '/v1/apply',
      headers: bearer(await registry.token(clientId, secret)),
      payload: doc,
    });
    if (res.statusCode !== 200) throw new Error(`apply as ${clientId}: ${res.statusCode} ${res.body}`);
  }
}

async function driveTraffic(registry: TestRegistry, gateway: ObservedGateway): Promise<number[]> {
  const token = await registry.token('dinkes-sistem-rujukan', DEMO_SECRETS.SPL_DEMO_CONSUMER_SECRET!);
  const statuses: number[] = [];
  const call = async (path: string, headers: Record<string, string> = bearer(token)) => {
    const res = await gateway.app.inject({ method: 'GET', url: `${DEMO_API}${path}`, headers });
    statuses.push(res.statusCode);
    return res.statusCode;
  };
  await call('/status');
  await call('/status', {});
  await call('/fail');
  // The plan allows REQUESTS_PER_MINUTE; keep calling until the limit answers.
  for (let i = 0; i < REQUESTS_PER_MINUTE * 3 && !statuses.includes(429); i++) await call('/status');
  return statuses;
}
