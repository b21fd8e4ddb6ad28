import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { serverTimeouts } from '@spl/env-config';
import { createMetricsRegistry, metricsPlugin, type Registry } from '@spl/metrics';
import { openapiDocsPlugin } from '@spl/openapi-docs';
import { problemPlugin, problemType, sendProblem } from '@spl/problem';
import type { SecretBox } from '@spl/secret-box';
import type { FederatedVerifier } from '@spl/token';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { BrokerConfig } from './config.js';
import { createSubscriptionQueues } from './delivery/subscription-queues.js';
import type { EventJobData } from './events/event-job.js';
import { createPublishMetrics } from './observability/broker-metrics.js';
import { createEventPublisher, type EventPublisher } from './publish/event-publisher.js';
import { createPullStore } from './pull/pull-store.js';
import { createRedisKeys } from './redis-keys.js';
import { healthRoutes } from './routes/health.js';
import { type PublishObserver, publishRoutes } from './routes/publish.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { createSnapshotRuntime, type SnapshotRuntime } from './snapshot/snapshot-runtime.js';

export interface BrokerDeps {
  config: BrokerConfig;
  /** Commands, snapshot notices, and the BullMQ queues (the publish API never blocks on it). */
  redis: Redis;
  /** Opens sealed webhook secrets; the publish API does not need it, the worker does. */
  secretBox: SecretBox | null;
  logger?: false | FastifyServerOptions['logger'];
  fetch?: typeof globalThis.fetch;
  metrics?: Registry;
  /** Usage records and the evidence log (server.ts); metrics are always recorded. */
  observer?: PublishObserver;
  /** Trusted issuers' tokens; absent, only the hub's own tokens are accepted (server.ts builds it). */
  federated?: FederatedVerifier | null;
  /** `maxmemory-policy` as read at start-up, for /readyz. */
  maxmemoryPolicy?: () => string | null;
}

export interface BrokerApp {
  app: FastifyInstance;
  runtime: SnapshotRuntime;
  publisher: EventPublisher;
  metrics: Registry;
}

/**
 * Builds the broker's publish API: publish, pull/ack/nack, replay, dead letters, health,
 * docs and metrics. Never listens (server.ts does) and never delivers (worker.ts does); the
 * snapshot is loaded when the app becomes ready, without waiting on a registry that is down.
 */
export async function buildApp(deps: BrokerDeps): Promise<BrokerApp> {
  const { config, redis } = deps;
  const keys = createRedisKeys(config.SPL_REDIS_PREFIX);
  const metrics = deps.metrics ?? createMetricsRegistry('broker');
  let log: FastifyInstance['log'] | undefined;

  const runtime = createSnapshotRuntime({
    config,
    dataSubdir: 'broker',
    secretBox: null, // the publish API never signs: secrets stay sealed in this process
    federated: deps.federated ?? null,
    redis,
    fetch: deps.fetch,
    onError: (err) => log?.warn({ err: { message: err.message } }, 'snapshot trouble'),
  });
  const deliverQueue = new Queue<EventJobData>(keys.deliverQueue, {
    connection: redis,
    prefix: keys.bullPrefix,
  });
  deliverQueue.on('error', (err) => log?.warn({ err: { message: err.message } }, 'deliver queue trouble'));
  const publisher = createEventPublisher({
    redis,
    queue: deliverQueue,
    keys,
    maxBacklog: config.SPL_BROKER_MAX_BACKLOG,
    keepCompleted: config.SPL_BROKER_KEEP_COMPLETED,
  });
  const queues = createSubscriptionQueues({ connection: redis, keys });
  const pull = createPullStore({ redis, keys, maxPerSubscription: config.SPL_BROKER_PULL_MAX });
  const publishMetrics = createPublishMetrics(metrics);
  const observer: PublishObserver = deps.observer
    ? {
        onPublish(input) {
          publishMetrics.onPublish(input);
          deps.observer!.onPublish(input);
        },
      }
    : publishMetrics;

  const app = Fastify({
    // A client trickling its request (slowloris, slow body) is cut off: SPL_HEADERS_TIMEOUT_MS, SPL_REQUEST_TIMEOUT_MS.
    http: serverTimeouts(config),
    requestTimeout: config.SPL_REQUEST_TIMEOUT_MS,
    logger:
      deps.logger === false
        ? false
        : {
            level: config.SPL_LOG_LEVEL,
            redact: ['req.headers.authorization', 'req.headers.cookie', '*.clientSecret', '*.secret'],
            ...(typeof deps.logger === 'object' ? deps.logger : {}),
          },
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply, {
        type: problemType('SPL_BAD_REQUEST'),
        title: 'Bad request',
        status: 400,
        code: 'SPL_BAD_REQUEST',
        detail: error.message,
        requestId: request.id,
      });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  log = app.log;

  await app.register(problemPlugin);
  await app.register(openapiDocsPlugin, {
    title: 'SPL broker',
    description:
      'The event data plane of the regional Sistem Penghubung Layanan: publish CloudEvents to a topic; pull, acknowledge, replay and inspect dead letters of a subscription. Push deliveries are POSTs of the structured CloudEvent with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature).',
    version: '0.1.0',
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
  });
  await app.register(metricsPlugin, { registry: metrics, prefix: 'spl_broker' });
  await app.register(healthRoutes, {
    runtime,
    redis,
    isOffline: Boolean(config.SPL_SNAPSHOT_FILE),
    maxmemoryPolicy: deps.maxmemoryPolicy ?? (() => null),
    backlog: publisher.backlog,
  });
  await app.register(publishRoutes, { runtime, publisher, observer });
  await app.register(subscriptionRoutes, {
    runtime,
    redis,
    keys,
    pull,
    queues,
    retryAttempts: config.SPL_BROKER_RETRY_ATTEMPTS,
    deadLetterMax: config.SPL_BROKER_DEAD_LETTER_MAX,
  });

  app.addHook('onReady', async () => {
    await runtime.start();
  });
  app.addHook('onClose', async () => {
    publisher.close();
    await runtime.close().catch(() => {});
    await queues.close().catch(() => {});
    await deliverQueue.close().catch(() => {});
  });
  return { app, runtime, publisher, metrics };
}
