import { hostname } from 'node:os';
import { join } from 'node:path';
import { createEvidenceLog, createInstanceId } from '@spl/evidence-log';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createDeliveryRecorder } from './evidence/event-evidence.js';
import { readMaxmemoryPolicy } from './observability/redis-policy.js';
import { closeRedis, closeStep, exitIfCloseHangs, openSecretBox, readConfigOrExit } from './process-setup.js';
import { createRedisKeys } from './redis-keys.js';
import type { TopicTable } from './snapshot/topic-table.js';
import { createEventUsage } from './usage/event-usage.js';
import { buildWorker } from './worker-app.js';

/** The delivery worker process. Run several for more throughput: BullMQ shares the jobs. */
async function main(): Promise<void> {
  const config = readConfigOrExit('broker-worker');
  const log = pino({ level: config.SPL_LOG_LEVEL, name: 'broker-worker' });
  const secretBox = openSecretBox(config);
  if (!secretBox) log.warn('no SPL_MASTER_KEY (and no development key): push subscriptions cannot be signed');
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => {});
  const bullConnection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  bullConnection.on('error', () => {});

  let policy: string | null = null;
  const evidence = createEvidenceLog({
    dir: join(config.SPL_DATA_DIR, 'broker-worker', 'evidence'),
    instanceId: createInstanceId(hostname()),
    checkpointEvery: config.SPL_EVIDENCE_CHECKPOINT_EVERY,
    checkpointSeconds: config.SPL_EVIDENCE_CHECKPOINT_SECONDS,
    onError: (err) =>
      log.warn({ err: { message: err.message } }, 'evidence log write failed; lines kept for retry'),
  });
  const usage = createEventUsage({
    redis,
    stream: createRedisKeys(config.SPL_REDIS_PREFIX).usageStream,
    onError: (err) => log.warn({ err }, 'usage flush failed; records kept for retry'),
  });
  let table: () => TopicTable | null = () => null;
  const worker = await buildWorker({
    config,
    redis,
    bullConnection,
    secretBox,
    log,
    maxmemoryPolicy: () => policy,
    observer: createDeliveryRecorder({ evidence, usage, table: () => table() }),
  });
  table = worker.runtime.table;

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    exitIfCloseHangs(log, signal);
    // Each Redis-bound step gets its share of the grace; the evidence log (local disk) always closes.
    await closeStep(log, 'closing the delivery workers', worker.close(), 5_000);
    await closeStep(log, 'usage flush', usage.close(), 2_000);
    await evidence.close().catch((err) => log.error({ err }, 'closing the evidence log failed'));
    await closeRedis(bullConnection);
    await closeRedis(redis);
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  policy = await readMaxmemoryPolicy(redis);
  // Production refuses an evictable Redis (issue 5 §6): an evicted job is a lost event. A
  // policy that cannot be read (CONFIG disabled on a managed Redis) is only warned about.
  if (config.SPL_MODE === 'production' && policy !== null && policy !== 'noeviction') {
    process.stderr.write(
      `broker: refusing to start in production: Redis maxmemory-policy is ${policy}, not noeviction (set it on the Redis of REDIS_URL)\n`,
    );
    process.exit(1);
  }
  if (policy !== 'noeviction')
    log.warn(
      { maxmemoryPolicy: policy },
      'Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict queued events (issue 4 §5)',
    );
  await worker.start();
  if (config.SPL_BROKER_WORKER_PORT >= 0) {
    // A second worker on one host with the same port still delivers; it only has no probes.
    await worker.app
      .listen({ host: config.SPL_HOST, port: config.SPL_BROKER_WORKER_PORT })
      .then((address) => log.info({ address }, 'worker metrics and probes listening'))
      .catch((err: Error) =>
        log.warn(
          { err: { message: err.message } },
          'worker probes and metrics not served (set SPL_BROKER_WORKER_PORT=0 for any free port)',
        ),
      );
  }
  const status = worker.runtime.status();
  log.info(
    { snapshot: status.version },
    status.isLoaded ? 'broker worker running' : 'broker worker running; no snapshot yet',
  );
}

await main();
