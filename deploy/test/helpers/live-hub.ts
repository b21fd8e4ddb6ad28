import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildRegistryBroker,
  type RegistryBroker,
} from '../../../services/broker/test/helpers/registry-broker.js';
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
/** The demo topic's publish path on the broker. */
export const DEMO_TOPIC_EVENTS = '/v1/topics/disdukcapil/kelahiran-tercatat/events';
/** The demo API's plan in this hub: few enough calls a minute that the test reaches a 429. */
const REQUESTS_PER_MINUTE = 20;

/** Every process of the hub that Prometheus scrapes (deploy/prometheus/prometheus.yml). */
export const SERVICES = ['registry', 'gateway', 'broker', 'broker-worker'] as const;
export type Service = (typeof SERVICES)[number];

export interface LiveHub {
  registry: TestRegistry;
  gateway: ObservedGateway;
  broker: RegistryBroker;
  /** GET /metrics of each service, as Prometheus would scrape it. */
  scrape(service: Service): Promise<string>;
  /** The statuses the traffic got, in order. */
  statuses: number[];
  /** The broker's answers to the events published, in order. */
  publishStatuses: number[];
  /** What the webhook receiver answered the broker's POSTs, in order. */
  webhookStatuses: number[];
  close(): Promise<void>;
}

/**
 * A registry, a gateway and a broker (publish API and delivery worker) built as their tests
 * build them (real PostgreSQL schema, one real Redis prefix), the demo hub applied through
 * every approval gate with its upstream and its webhook on ports of this test, and the traffic
 * a labelled series needs before it shows a sample: through the gateway 200s, a 401, an
 * upstream 500 and 429s; through the broker an event delivered, one delivered on its retry and
 * one dead-lettered; and one round of the registry's SLA prober.
 *
 *   consumer dinkes/sistem-rujukan ─token─► gateway ─► upstream (200; 500 under /fail)
 *                                             │ snapshot          ▲ HEAD every second (SLA prober)
 *                                          registry ─────────────┘
 *                                             │ snapshot  ◄─ apply (operator, reviewer, publisher, owner)
 *   publisher disdukcapil/siak ─token─► broker API ─► Redis ─► broker worker ─► receiver
 *                                                                  (204; 500 once; 500 always)
 */
export async function startLiveHub(): Promise<LiveHub> {
  const upstream = await startUpstream();
  const receiver = await startReceiver();
  // One master key for the registry, which seals the webhook secrets, and the broker's
  // worker, which opens them to sign.
  const masterKey = randomBytes(32).toString('base64');
  const registry = await buildTestRegistry({
    env: {
      SPL_MASTER_KEY: masterKey,
      // A round at once and then every second, so one probes the demo API once it is published.
      SPL_PROBE_SECONDS: '1',
      SPL_PROBE_TIMEOUT_MS: '1000',
    },
  });
  let gateway: ObservedGateway | undefined;
  let broker: RegistryBroker | undefined;
  const close = async () => {
    await broker?.close();
    await gateway?.close();
    await registry.close();
    receiver.server.closeAllConnections();
    await new Promise((done) => receiver.server.close(() => done(undefined)));
    await new Promise((done) => upstream.server.close(() => done(undefined)));
  };
  try {
    const registryUrl = await registry.app.listen({ host: '127.0.0.1', port: 0 });
    await applyDemoHub(registry, upstream.url, receiver.url);
    const gatewayClient = await dataplaneClient(registry, 'gateway');
    const brokerClient = await dataplaneClient(registry, 'broker');

    gateway = await buildObservedGateway({
      registryUrl,
      env: {
        // The registry issues the tokens, so its issuer is the hub's.
        SPL_PUBLIC_URL: TEST_ISSUER,
        SPL_GATEWAY_CLIENT_ID: gatewayClient.clientId,
        SPL_GATEWAY_CLIENT_SECRET: gatewayClient.clientSecret,
        SPL_REDIS_PREFIX: registry.prefix,
      },
    });
    // As scripts/start.ts starts it, with retries small enough that an event is retried and
    // dead-lettered within the test (docs/broker.md "Configuration").
    broker = await buildRegistryBroker({
      SPL_REGISTRY_URL: registryUrl,
      SPL_BROKER_CLIENT_ID: brokerClient.clientId,
      SPL_BROKER_CLIENT_SECRET: brokerClient.clientSecret,
      SPL_PUBLIC_URL: TEST_ISSUER,
      SPL_REDIS_PREFIX: registry.prefix,
      SPL_MASTER_KEY: masterKey,
      SPL_EGRESS_ALLOW: '127.0.0.1',
      SPL_BROKER_RETRY_ATTEMPTS: '1',
      SPL_BROKER_RETRY_BASE_MS: '20',
      SPL_BROKER_RETRY_MAX_MS: '100',
      SPL_BROKER_DELIVERY_TIMEOUT_MS: '2000',
    });
    const statuses = await driveTraffic(registry, gateway);
    const publishStatuses = await driveEvents(registry, broker);
    const g = gateway;
    const b = broker;
    const apps = { registry: registry.app, gateway: g.app, broker: b.api.app, 'broker-worker': b.worker.app };
    const scrape = async (service: Service) => {
      const res = await apps[service].inject({ method: 'GET', url: '/metrics' });
      if (res.statusCode !== 200) throw new Error(`${service} /metrics: ${res.statusCode}`);
      return res.body;
    };
    // Every event's fate is counted, and the prober has run a round.
    await waitFor(
      'the five webhook POSTs (delivered-…: 1, retried-…: 2, dead-…: 2)',
      () => receiver.answers.length >= 5,
    );
    await waitForMetrics(scrape, 'broker-worker', [
      'spl_broker_deliveries_total',
      'spl_broker_delivery_failures_total',
      'spl_broker_retries_scheduled_total',
      'spl_broker_dead_letters_total',
      'spl_broker_webhook_responses_total',
      'spl_broker_publish_to_delivery_seconds_bucket',
    ]);
    await waitForMetrics(scrape, 'registry', [
      'spl_registry_probe_duration_seconds_bucket',
      'spl_registry_api_availability_ratio',
      'spl_registry_api_sla_target_ratio',
    ]);
    return {
      registry,
      gateway: g,
      broker: b,
      statuses,
      publishStatuses,
      webhookStatuses: receiver.answers,
      scrape,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A data-plane client of the registry (role dataplane), as scripts/start.ts makes one. */
async function dataplaneClient(
  registry: TestRegistry,
  name: 'gateway' | 'broker',
): Promise<{ clientId: string; clientSecret: string }> {
  const created = await registry.app.inject({
    method: 'POST',
    url: '/v1/dataplane-clients',
    headers: bearer(await registry.operatorToken()),
    payload: { name },
  });
  if (created.statusCode !== 201)
    throw new Error(`dataplane client ${name}: ${created.statusCode} ${created.body}`);
  return created.json() as { clientId: string; clientSecret: string };
}

/**
 * Polls a service's /metrics until each name has a sample: the broker counts asynchronously
 * (the worker delivers after the 202), and the prober runs on its own timer.
 */
async function waitForMetrics(
  scrape: (service: Service) => Promise<string>,
  service: Service,
  names: string[],
): Promise<void> {
  let missing = names;
  await waitFor(
    () => `${service} /metrics to show ${missing.join(', ')}`,
    async () => {
      const text = await scrape(service);
      missing = names.filter((name) => !new RegExp(`^${name}[{ ]`, 'm').test(text));
      return missing.length === 0;
    },
  );
}

/** Polls `isDone` every 100 ms; throws naming what did not happen after `timeoutMs`. */
async function waitFor(
  what: string | (() => string),
  isDone: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDone())) {
    if (Date.now() > deadline)
      throw new Error(`waited ${timeoutMs} ms for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
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

/**
 * The demo topic's webhook, standing in for Dinkes's system; the event's id says how it answers:
 * `delivered-…` 204 at once, `retried-…` 500 and then 204 (delivered on its retry), `dead-…`
 * 500 every time (failed, retried, dead-lettered). Never 410, which would disable the
 * subscription in the broker for the events after it.
 */
async function startReceiver(): Promise<{ server: Server; url: string; answers: number[] }> {
  const answers: number[] = [];
  const seen = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let id = '';
      try {
        id = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id ?? '');
      } catch {
        // not a structured CloudEvent: answered 400 below
      }
      const isFirst = !seen.has(id);
      seen.add(id);
      const status = id.startsWith('delivered-')
        ? 204
        : id.startsWith('retried-')
          ? isFirst
            ? 500
            : 204
          : id.startsWith('dead-')
            ? 500
            : 400;
      answers.push(status);
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/kelahiran`,
    answers,
  };
}

/**
 * demo/hub.yaml, with this test's upstream, a small plan and this test's webhook receiver,
 * through each approval gate.
 */
async function applyDemoHub(registry: TestRegistry, upstreamUrl: string, receiverUrl: string): Promise<void> {
  const doc = loadDemoHub() as {
    apis: { versions: Record<string, unknown>[] }[];
    topicSubscriptions?: Record<string, unknown>[];
  };
  for (const api of doc.apis)
    for (const version of api.versions) {
      version.upstream = { urls: [upstreamUrl], timeoutMs: 2000 };
      version.plan = { requestsPerMinute: REQUESTS_PER_MINUTE, burst: 5, bodyLimitBytes: 65536 };
    }
  const pushes = (doc.topicSubscriptions ?? []).filter((s) => s.mode === 'push');
  if (pushes.length === 0) throw new Error('demo/hub.yaml has no push topic subscription');
  for (const subscription of pushes) subscription.pushUrl = receiverUrl;
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

/**
 * Publishes the demo topic's events as its publisher, Disdukcapil's SIAK, the way
 * scripts/publish-demo-event.ts does (a hub token, a CloudEvent in binary mode): one the
 * receiver takes at once, one it takes on the retry, one it never takes.
 */
async function driveEvents(registry: TestRegistry, broker: RegistryBroker): Promise<number[]> {
  const token = await registry.token('disdukcapil-siak', DEMO_SECRETS.SPL_DEMO_PUBLISHER_APP_SECRET!);
  const statuses: number[] = [];
  for (const fate of ['delivered', 'retried', 'dead']) {
    const id = `${fate}-${randomUUID()}`;
    const res = await broker.api.app.inject({
      method: 'POST',
      url: DEMO_TOPIC_EVENTS,
      headers: {
        ...bearer(token),
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/disdukcapil/siak',
        'ce-type': 'id.go.contoh.disdukcapil.kelahiran.tercatat.v1',
        'ce-subject': 'kelurahan/sukamaju',
        'ce-time': new Date().toISOString(),
      },
      payload: JSON.stringify({
        nomorAkta: `3299-LU-${id.slice(-8).toUpperCase()}`,
        tanggalLahir: new Date().toISOString().slice(0, 10),
        kelurahan: 'Sukamaju',
      }),
    });
    statuses.push(res.statusCode);
    if (res.statusCode !== 202) throw new Error(`publish ${fate}: ${res.statusCode} ${res.body}`);
  }
  return statuses;
}
