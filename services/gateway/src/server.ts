import cluster from 'node:cluster';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createEgressPolicy, EgressConfigError } from '@spl/egress';
import { ConfigError } from '@spl/env-config';
import { URL_DIGEST_KEY_INFO } from '@spl/evidence-log';
import { createMetricsRegistry } from '@spl/metrics';
import { createSecretBox, parseMasterKey, type SecretBox } from '@spl/secret-box';
import { federationEgress } from '@spl/token';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { clusterMetricsSource, runClusterPrimary, workerCount } from './cluster.js';
import { type GatewayConfig, GatewayConfigError, loadGatewayConfig, productionProblems } from './config.js';
import { createEvidenceLog, createInstanceId, installEvidence } from './evidence/index.js';
import { createRedisKeys } from './redis-keys.js';
import { createStandardPolicies } from './standard-policies.js';
import { loadServerTls, type ServerTls } from './tls/server-tls.js';
import { installUsage } from './usage/install-usage.js';
import { createUsageAggregator } from './usage/usage-aggregator.js';

function fail(message: string): never {
  process.stderr.write(`gateway: ${message}\n`);
  process.exit(1);
}

/** SPL_MASTER_KEY, or in development the key the registry wrote beside its data; else none. */
function openSecretBox(config: GatewayConfig): SecretBox | null {
  if (config.SPL_MASTER_KEY) return createSecretBox(parseMasterKey(config.SPL_MASTER_KEY));
  const file = join(config.SPL_DATA_DIR, 'master.key');
  if (config.SPL_MODE === 'development' && existsSync(file))
    return createSecretBox(parseMasterKey(readFileSync(file, 'utf8')));
  process.stderr.write(
    'gateway: no SPL_MASTER_KEY (and no development key); routes with upstream credentials answer 502\n',
  );
  return null;
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  let tls: ServerTls | null;
  try {
    config = loadGatewayConfig(process.env);
    tls = loadServerTls(config);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof GatewayConfigError) fail(err.message);
    throw err;
  }
  const problems = productionProblems(config);
  if (problems.length) fail(`refusing to start in production:\n  - ${problems.join('\n  - ')}`);
  const workers = workerCount(config.SPL_GATEWAY_WORKERS);
  if (workers > 1 && cluster.isPrimary) return runClusterPrimary(workers);

  const secretBox = openSecretBox(config);
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    lazyConnect: false,
  });
  redis.on('error', () => {}); // reported by /readyz; ioredis reconnects on its own

  // The rate limiter's own connection never queues commands while Redis is away, so a
  // Redis outage costs a request nothing (limits/rate-limiter.ts).
  const limiterRedis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
  });
  limiterRedis.on('error', () => {});

  let built: Awaited<ReturnType<typeof buildApp>>;
  let policies: ReturnType<typeof createStandardPolicies>;
  let log: { warn: (obj: object, msg: string) => void } | undefined;
  // One evidence chain per process: no contention between instances or workers (issue 3 §10).
  const evidence = createEvidenceLog({
    dir: join(config.SPL_DATA_DIR, 'gateway', 'evidence'),
    instanceId: createInstanceId(hostname()),
    checkpointEvery: config.SPL_EVIDENCE_CHECKPOINT_EVERY,
    checkpointSeconds: config.SPL_EVIDENCE_CHECKPOINT_SECONDS,
    onError: (err) =>
      log?.warn({ err: { message: err.message } }, 'evidence log write failed; lines kept for retry'),
    urlDigest: secretBox ? 'hmac-sha256' : 'sha256',
  });
  // A path may carry a NIK: with a master key its digest is keyed, so it cannot be brute-forced.
  const urlDigestKey = secretBox ? secretBox.deriveKey(URL_DIGEST_KEY_INFO) : null;
  // Per-minute usage aggregates, flushed to the registry's stream (issue 3 §11).
  const usage = createUsageAggregator({
    redis,
    stream: createRedisKeys(config.SPL_REDIS_PREFIX).usageStream,
    onError: (err) => log?.warn({ err }, 'usage flush failed; records kept for retry'),
  });
  try {
    const egress = createEgressPolicy(config.SPL_EGRESS_ALLOW);
    const metrics = createMetricsRegistry('gateway');
    policies = createStandardPolicies({
      redis: limiterRedis,
      redisPrefix: config.SPL_REDIS_PREFIX,
      failMode: config.SPL_RATE_LIMIT_FAIL_MODE,
      registry: metrics,
      floodPerSecond: config.SPL_FLOOD_PER_SECOND,
      floodBurst: config.SPL_FLOOD_BURST,
      // Federated JWKS are fetched under the egress allow-list, judged on the address dialled.
      ...federationEgress(egress),
    });
    built = await buildApp({
      config,
      redis,
      secretBox,
      metrics,
      renderMetrics: clusterMetricsSource(metrics),
      rateLimiter: policies.rateLimiter,
      requestValidator: policies.requestValidator,
      createFederatedVerifier: policies.createFederatedVerifier,
      observer: policies.observer,
      tls,
      extend: (app) => {
        policies.install(app);
        installUsage(app, usage);
        installEvidence(app, evidence, { urlDigestKey });
      },
    });
    log = built.app.log;
  } catch (err) {
    if (err instanceof EgressConfigError) fail(err.message);
    throw err;
  }
  const { app, runtime } = built;

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Reverse order of opening; each step runs even if one before it fails.
    await app.close().catch((err) => app.log.error({ err }, 'closing http failed'));
    // After the last request has drained, before Redis goes: the open minute is flushed.
    await usage.close().catch((err) => app.log.error({ err }, 'usage flush on close failed'));
    await evidence.close().catch((err) => app.log.error({ err }, 'closing the evidence log failed'));
    policies.close();
    limiterRedis.disconnect();
    await redis.quit().catch(() => redis.disconnect());
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.SPL_HOST, port: config.SPL_GATEWAY_PORT });
  const status = runtime.status();
  app.log.info(
    {
      publicUrl: config.publicUrl,
      snapshot: status.version,
      source: status.source,
      tls: tls ? { ...tls.certificate, clientAuth: tls.clientAuth } : 'off',
    },
    status.isLoaded ? 'gateway ready' : 'gateway listening; no snapshot yet (see /readyz)',
  );
}

await main();
