import { hostname } from 'node:os';
import { join } from 'node:path';
import { createEgressPolicy } from '@spl/egress';
import { createEvidenceLog, createInstanceId } from '@spl/evidence-log';
import { createFederatedVerifier, federationEgress } from '@spl/token';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { createPublishRecorder } from './evidence/event-evidence.js';
import { readMaxmemoryPolicy } from './observability/redis-policy.js';
import { closeRedis, closeStep, exitIfCloseHangs, readConfigOrExit } from './process-setup.js';
import { createRedisKeys } from './redis-keys.js';
import { createEventUsage } from './usage/event-usage.js';

/** The publish API process (port SPL_BROKER_PORT). Delivery runs in worker.ts. */
async function main(): Promise<void> {
  const config = readConfigOrExit('broker');
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => {}); // reported by /readyz; ioredis reconnects on its own

  let policy: string | null = null;
  let log: { warn: (obj: object, msg: string) => void } | undefined;
  // One evidence chain per process (issue 3 §10), and per-minute usage records (issue 4 §6).
  const evidence = createEvidenceLog({
    dir: join(config.SPL_DATA_DIR, 'broker', 'evidence'),
    instanceId: createInstanceId(hostname()),
    checkpointEvery: config.SPL_EVIDENCE_CHECKPOINT_EVERY,
    checkpointSeconds: config.SPL_EVIDENCE_CHECKPOINT_SECONDS,
    onError: (err) =>
      log?.warn({ err: { message: err.message } }, 'evidence log write failed; lines kept for retry'),
  });
  const usage = createEventUsage({
    redis,
    stream: createRedisKeys(config.SPL_REDIS_PREFIX).usageStream,
    onError: (err) => log?.warn({ err }, 'usage flush failed; records kept for retry'),
  });
  // Trusted issuers' JWKS are fetched only from addresses SPL_EGRESS_ALLOW permits, judged on the address dialled.
  const egress = createEgressPolicy(config.SPL_EGRESS_ALLOW);
  const federated = createFederatedVerifier(federationEgress(egress));
  const { app, runtime } = await buildApp({
    federated,
    config,
    redis,
    secretBox: null,
    maxmemoryPolicy: () => policy,
    observer: createPublishRecorder({ evidence, usage }),
  });
  log = app.log;

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    exitIfCloseHangs(app.log, signal);
    await closeStep(app.log, 'closing http', app.close(), 5_000);
    await closeStep(app.log, 'usage flush', usage.close(), 2_000);
    await evidence.close().catch((err) => app.log.error({ err }, 'closing the evidence log failed'));
    await closeRedis(redis);
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.SPL_HOST, port: config.SPL_BROKER_PORT });
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
    app.log.warn(
      { maxmemoryPolicy: policy },
      'Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict queued events (issue 4 §5)',
    );
  const status = runtime.status();
  app.log.info(
    { snapshot: status.version, source: status.source },
    status.isLoaded ? 'broker ready' : 'broker listening; no snapshot yet (see /readyz)',
  );
}

await main();
