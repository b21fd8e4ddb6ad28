import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '@spl/secret-box';
import type { FederatedVerifier } from '@spl/token';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { runLogger, runLogStream } from '../../../../test/support/run-logs.js';
import { type BrokerApp, buildApp } from '../../src/app.js';
import { type BrokerConfig, loadBrokerConfig } from '../../src/config.js';
import type { DeliveryObserver } from '../../src/delivery/delivery-workers.js';
import type { PublishObserver } from '../../src/routes/publish.js';
import { type BrokerWorker, buildWorker } from '../../src/worker-app.js';
import { type HubFixture, MASTER_KEY, TEST_AUDIENCE, TEST_ISSUER } from './hub-fixture.js';

export const TEST_REDIS_URL =
  process.env.SPL_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Environment of a test broker: offline from a snapshot file, fast retries, loopback allowed. */
export function testEnv(input: { prefix: string; dataDir: string; snapshotFile: string; redisUrl?: string }) {
  return {
    SPL_PUBLIC_URL: TEST_ISSUER,
    SPL_TOKEN_AUDIENCE: TEST_AUDIENCE,
    SPL_SNAPSHOT_FILE: input.snapshotFile,
    SPL_REDIS_PREFIX: input.prefix,
    REDIS_URL: input.redisUrl ?? TEST_REDIS_URL,
    SPL_DATA_DIR: input.dataDir,
    SPL_EGRESS_ALLOW: '127.0.0.1',
    SPL_MASTER_KEY: MASTER_KEY.toString('base64'),
    SPL_BROKER_RETRY_BASE_MS: '100',
    SPL_BROKER_RETRY_MAX_MS: '1000',
    SPL_BROKER_RETRY_ATTEMPTS: '4',
    SPL_BROKER_DELIVERY_TIMEOUT_MS: '1000',
    SPL_BROKER_LOCK_MS: '2000',
    SPL_BROKER_WORKER_PORT: '-1',
    SPL_LOG_LEVEL: 'silent',
  } satisfies Record<string, string>;
}

export interface TestBroker {
  prefix: string;
  dataDir: string;
  snapshotFile: string;
  config: BrokerConfig;
  api: BrokerApp;
  worker: BrokerWorker | null;
  redis: Redis;
  /** The publish API's base URL (listening on port 0). */
  url: string;
  /** Writes the hub's snapshot again and reloads it in the API and the worker. */
  reload(): Promise<void>;
  startWorker(): Promise<BrokerWorker>;
  close(): Promise<void>;
}

/**
 * The publish API and (unless `worker: false`) a delivery worker in this process, on their
 * own Redis key prefix and data folder, from the hub's snapshot written to a file.
 */
export async function buildTestBroker(
  hub: HubFixture,
  options: {
    env?: Record<string, string>;
    worker?: boolean;
    redisUrl?: string;
    apiObserver?: PublishObserver;
    federated?: FederatedVerifier;
    workerObserver?: DeliveryObserver;
    /** Fastify logger options for the API (e.g. `{ stream }`); silent when absent. */
    logger?: Record<string, unknown>;
    /** Where the worker's pino log goes (its level comes from SPL_LOG_LEVEL); silent when absent. */
    workerLogStream?: NodeJS.WritableStream;
  } = {},
): Promise<TestBroker> {
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'spl-broker-'));
  const snapshotFile = join(dataDir, 'snapshot.json');
  await writeFile(snapshotFile, JSON.stringify(hub.snapshot()));
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const config = loadBrokerConfig({
    ...testEnv({ prefix, dataDir, snapshotFile, redisUrl }),
    ...options.env,
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => {});
  const bullConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  bullConnection.on('error', () => {});
  const api = await buildApp({
    config,
    redis,
    secretBox: null,
    // Silent unless `pnpm test` keeps the run's logs for its final scan.
    logger: options.logger ?? runLogger() ?? false,
    ...(options.apiObserver ? { observer: options.apiObserver } : {}),
    ...(options.federated ? { federated: options.federated } : {}),
  });
  const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const workers: BrokerWorker[] = [];
  const startWorker = async () => {
    const w = await buildWorker({
      config,
      redis,
      bullConnection,
      secretBox: createSecretBox(MASTER_KEY),
      log: options.workerLogStream
        ? pino({ level: config.SPL_LOG_LEVEL }, options.workerLogStream)
        : runLogStream()
          ? pino({ level: 'info' }, runLogStream())
          : pino({ level: 'silent' }),
      ...(options.workerObserver ? { observer: options.workerObserver } : {}),
    });
    await w.start();
    workers.push(w);
    return w;
  };
  const worker = options.worker === false ? null : await startWorker();
  return {
    prefix,
    dataDir,
    snapshotFile,
    config,
    api,
    worker,
    redis,
    url,
    startWorker,
    async reload() {
      hub.version++;
      await writeFile(snapshotFile, JSON.stringify(hub.snapshot()));
      await api.runtime.refresh();
      for (const w of workers) await w.runtime.refresh();
    },
    async close() {
      for (const w of workers) await w.close();
      await api.app.close();
      // Leave nothing behind: every key under the test prefix.
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (found.length) await redis.unlink(...found);
      } while (cursor !== '0');
      bullConnection.disconnect();
      redis.disconnect();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
