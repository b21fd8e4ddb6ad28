import { createEgressPolicy } from '@spl/egress';
import { createMetricsRegistry, metricsPlugin, type Registry } from '@spl/metrics';
import { problemPlugin } from '@spl/problem';
import type { SecretBox } from '@spl/secret-box';
import { createRegistryTokenSource } from '@spl/snapshot';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BrokerConfig } from './config.js';
import { createSubscriptionCircuits } from './delivery/circuit-breaker.js';
import {
  createDeliveryWorkers,
  type DeliveryObserver,
  type DeliveryWorkers,
} from './delivery/delivery-workers.js';
import { createRegistrySuspender } from './delivery/registry-suspender.js';
import { createRetrySchedule } from './delivery/retry-schedule.js';
import { createWebhookSender } from './delivery/webhook-sender.js';
import { createDeliveryMetrics } from './observability/broker-metrics.js';
import { createPullStore } from './pull/pull-store.js';
import { createRedisKeys } from './redis-keys.js';
import { healthRoutes } from './routes/health.js';
import { createSnapshotRuntime, type SnapshotRuntime } from './snapshot/snapshot-runtime.js';
import type { TopicTable } from './snapshot/topic-table.js';

export interface WorkerDeps {
  config: BrokerConfig;
  /** Commands and snapshot notices. */
  redis: Redis;
  /** For BullMQ workers (duplicated for blocking reads): `maxRetriesPerRequest: null`. */
  bullConnection: Redis;
  secretBox: SecretBox | null;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  fetch?: typeof globalThis.fetch;
  metrics?: Registry;
  /** Usage records and the evidence log (worker.ts); metrics are always recorded. */
  observer?: DeliveryObserver;
  maxmemoryPolicy?: () => string | null;
}

export interface BrokerWorker {
  runtime: SnapshotRuntime;
  workers: DeliveryWorkers;
  metrics: Registry;
  /** /healthz, /readyz and /metrics of the worker process; not listening until told. */
  app: FastifyInstance;
  start(): Promise<void>;
  close(): Promise<void>;
}

function composeObservers(list: DeliveryObserver[]): DeliveryObserver {
  return {
    onAttempt: (...a) => {
      for (const o of list) o.onAttempt?.(...a);
    },
    onRetryScheduled: (...a) => {
      for (const o of list) o.onRetryScheduled?.(...a);
    },
    onDeadLetter: (...a) => {
      for (const o of list) o.onDeadLetter?.(...a);
    },
    onPulledStored: (...a) => {
      for (const o of list) o.onPulledStored?.(...a);
    },
    onDisabled: (...a) => {
      for (const o of list) o.onDisabled?.(...a);
    },
  };
}

/**
 * The delivery worker process: the snapshot (with webhook secrets opened), the first-attempt
 * worker and one retry worker per push subscription, and a small HTTP surface for probes and
 * metrics. Runs apart from the publish API (the note's measurements: half the p99).
 */
export async function buildWorker(deps: WorkerDeps): Promise<BrokerWorker> {
  const { config, redis, log } = deps;
  const keys = createRedisKeys(config.SPL_REDIS_PREFIX);
  const metrics = deps.metrics ?? createMetricsRegistry('broker-worker');
  let workers: DeliveryWorkers | null = null;

  const runtime = createSnapshotRuntime({
    config,
    dataSubdir: 'broker-worker',
    secretBox: deps.secretBox,
    redis,
    fetch: deps.fetch,
    onTable: (table) => {
      for (const sub of table.pushSubscriptions())
        if (sub.problem)
          log.error({ subscription: sub.id, problem: sub.problem }, 'subscription cannot be pushed');
      if (workers) workers.reconcile(table);
      else if (isStarted) startWorkers(table);
    },
    onError: (err) => log.warn({ err: { message: err.message } }, 'snapshot trouble'),
  });
  const deliveryMetrics = createDeliveryMetrics(metrics, runtime.table, () => workers);
  const observer = deps.observer ? composeObservers([deliveryMetrics, deps.observer]) : deliveryMetrics;
  const sender = createWebhookSender({
    egress: createEgressPolicy(config.SPL_EGRESS_ALLOW),
    timeoutMs: config.SPL_BROKER_DELIVERY_TIMEOUT_MS,
    connections: config.SPL_BROKER_CONNECTIONS,
  });
  const hasRegistryClient = Boolean(config.SPL_BROKER_CLIENT_ID && config.SPL_BROKER_CLIENT_SECRET);
  const suspender = createRegistrySuspender({
    registryUrl: config.registryUrl,
    getToken: hasRegistryClient
      ? createRegistryTokenSource({
          registryUrl: config.registryUrl,
          clientId: config.SPL_BROKER_CLIENT_ID!,
          clientSecret: config.SPL_BROKER_CLIENT_SECRET!,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        })
      : null,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    onError: (err) =>
      log.warn({ err: { message: err.message } }, 'suspending a subscription in the registry failed'),
  });

  const app = Fastify({
    logger: false,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  await app.register(problemPlugin);
  await app.register(metricsPlugin, { registry: metrics, prefix: 'spl_broker_worker' });
  await app.register(healthRoutes, {
    runtime,
    redis,
    isOffline: Boolean(config.SPL_SNAPSHOT_FILE),
    maxmemoryPolicy: deps.maxmemoryPolicy ?? (() => null),
  });

  let isClosed = false;
  let isStarted = false;
  function startWorkers(table: TopicTable): void {
    if (isClosed) return;
    workers = createDeliveryWorkers({
      connection: deps.bullConnection,
      redis,
      keys,
      table: runtime.table,
      sender,
      schedule: createRetrySchedule({
        attempts: config.SPL_BROKER_RETRY_ATTEMPTS,
        baseMs: config.SPL_BROKER_RETRY_BASE_MS,
        maxMs: config.SPL_BROKER_RETRY_MAX_MS,
      }),
      circuits: createSubscriptionCircuits({
        failureThreshold: config.SPL_BROKER_CIRCUIT_FAILURES,
        openMs: config.SPL_BROKER_CIRCUIT_OPEN_SECONDS * 1000,
      }),
      pull: createPullStore({ redis, keys, maxPerSubscription: config.SPL_BROKER_PULL_MAX }),
      suspender,
      concurrency: config.SPL_BROKER_CONCURRENCY,
      retryConcurrency: config.SPL_BROKER_RETRY_CONCURRENCY,
      maxInFlightPerSubscription: config.SPL_BROKER_SUBSCRIPTION_IN_FLIGHT,
      lockMs: config.SPL_BROKER_LOCK_MS,
      deadLetterMax: config.SPL_BROKER_DEAD_LETTER_MAX,
      suspendAfterMs: config.SPL_BROKER_SUSPEND_AFTER_SECONDS * 1000,
      observer,
      onError: (err, context) => log.warn({ err: { message: err.message }, context }, 'delivery trouble'),
    });
    workers.reconcile(table);
  }
  return {
    runtime,
    get workers() {
      if (!workers) throw new Error('the worker has not started');
      return workers;
    },
    metrics,
    app,
    async start() {
      isStarted = true;
      // The snapshot first: workers take no job before they know the subscriptions, so an
      // event is never failed for want of a snapshot. Without one yet, they start when it comes.
      await runtime.start();
      const table = runtime.table();
      if (table && !workers) startWorkers(table);
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      await app.close().catch(() => {});
      await workers?.close().catch((err) => log.error({ err }, 'closing the workers failed'));
      await runtime.close().catch(() => {});
      await sender.close();
    },
  };
}
