import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox, parseMasterKey } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { type BrokerApp, buildApp } from '../../src/app.js';
import { type BrokerConfig, loadBrokerConfig } from '../../src/config.js';
import { type BrokerWorker, buildWorker } from '../../src/worker-app.js';
import { TEST_REDIS_URL } from './test-broker.js';

export interface RegistryBroker {
  config: BrokerConfig;
  api: BrokerApp;
  worker: BrokerWorker;
  /** The publish API's base URL (listening on a free port). */
  url: string;
  close(): Promise<void>;
}

/**
 * The publish API and one delivery worker in this process, configured from `env` as server.ts
 * and worker.ts read it (SPL_REGISTRY_URL, SPL_BROKER_CLIENT_ID/SECRET, SPL_PUBLIC_URL,
 * SPL_REDIS_PREFIX, SPL_MASTER_KEY, SPL_EGRESS_ALLOW, the retry settings, …): from a running
 * registry's snapshot, not a file. Resolves once both have loaded a snapshot whose push
 * subscriptions the worker can sign for. The data folder is its own (removed on close); the
 * Redis keys live under the given prefix, which the caller cleans up.
 */
export async function buildRegistryBroker(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<RegistryBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spl-broker-'));
  const config = loadBrokerConfig({
    REDIS_URL: TEST_REDIS_URL,
    SPL_DATA_DIR: dataDir,
    SPL_BROKER_WORKER_PORT: '-1',
    SPL_LOG_LEVEL: 'silent',
    ...env,
  });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => {});
  const bullConnection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  bullConnection.on('error', () => {});
  let api: BrokerApp | undefined;
  let worker: BrokerWorker | undefined;
  const close = async () => {
    await worker?.close();
    await api?.app.close();
    bullConnection.disconnect();
    redis.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    api = await buildApp({ config, redis, secretBox: null, logger: false });
    const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    worker = await buildWorker({
      config,
      redis,
      bullConnection,
      secretBox: config.SPL_MASTER_KEY ? createSecretBox(parseMasterKey(config.SPL_MASTER_KEY)) : null,
      log: pino({ level: 'silent' }),
    });
    await worker.start();
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    const a = api;
    const w = worker;
    while (!a.runtime.status().isLoaded || !w.runtime.status().isLoaded) {
      if (Date.now() > deadline)
        throw new Error(
          `broker: no snapshot from ${config.registryUrl} (api: ${a.runtime.status().lastError}, worker: ${w.runtime.status().lastError})`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    const unsignable = (w.runtime.table()?.pushSubscriptions() ?? []).filter((s) => s.problem);
    if (unsignable.length)
      throw new Error(`broker: ${unsignable.map((s) => `${s.id}: ${s.problem}`).join('; ')}`);
    return { config, api: a, worker: w, url, close };
  } catch (err) {
    await close();
    throw err;
  }
}
