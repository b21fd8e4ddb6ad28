import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { runLogger } from '../../../../test/support/run-logs.js';
import { buildApp, type GatewayApp, type GatewayDeps } from '../../src/app.js';
import { loadGatewayConfig } from '../../src/config.js';
import { loadServerTls } from '../../src/tls/server-tls.js';
import { MASTER_KEY, TEST_AUDIENCE, TEST_ISSUER } from './hub-fixture.js';

export const TEST_REDIS_URL =
  process.env.SPL_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestGateway extends GatewayApp {
  prefix: string;
  dataDir: string;
  redis: Redis;
  /** Listens on port 0 and returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A gateway on its own Redis prefix and data folder, pointed at `registryUrl`, ready (its
 * first snapshot attempt done). The egress policy lists 127.0.0.1 like the quick start.
 */
export async function buildTestGateway(options: {
  registryUrl: string;
  env?: Record<string, string>;
  dataDir?: string;
  deps?: Partial<GatewayDeps>;
}): Promise<TestGateway> {
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'spl-gateway-')));
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const config = loadGatewayConfig({
    SPL_PUBLIC_URL: TEST_ISSUER,
    SPL_TOKEN_AUDIENCE: TEST_AUDIENCE,
    SPL_REGISTRY_URL: options.registryUrl,
    SPL_GATEWAY_CLIENT_ID: 'gateway-dataplane',
    SPL_GATEWAY_CLIENT_SECRET: 'gateway-dataplane-secret-0123456789',
    SPL_REDIS_PREFIX: prefix,
    REDIS_URL: TEST_REDIS_URL,
    SPL_DATA_DIR: dataDir,
    SPL_EGRESS_ALLOW: '127.0.0.1',
    SPL_SNAPSHOT_POLL_SECONDS: '0',
    SPL_LOG_LEVEL: 'silent',
    ...options.env,
  });
  const built = await buildApp({
    config,
    redis,
    secretBox: createSecretBox(MASTER_KEY),
    // Silent unless `pnpm test` keeps the run's logs for its final scan.
    logger: runLogger() ?? false,
    poolGraceMs: 50,
    // TLS termination when the env names a certificate, read as server.ts reads it.
    tls: loadServerTls(config),
    ...options.deps,
  });
  await built.app.ready();
  return {
    ...built,
    prefix,
    dataDir,
    redis,
    async listen() {
      return built.app.listen({ host: '127.0.0.1', port: 0 });
    },
    async close() {
      await built.app.close();
      redis.disconnect();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
