import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '@spl/env-config';
import { createSecretBox, generateMasterKey, parseMasterKey } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { loadRegistryConfig, productionProblems, type RegistryConfig } from './config.js';
import { createPgliteDatabase, createPostgresDatabase, type Database } from './store/database.js';

function fail(message: string): never {
  process.stderr.write(`registry: ${message}\n`);
  process.exit(1);
}

/** Development without SPL_MASTER_KEY: a key generated once and kept beside the data (0600). */
function developmentMasterKey(config: RegistryConfig): Buffer {
  const file = join(config.SPL_DATA_DIR, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(config.SPL_DATA_DIR, { recursive: true });
    writeFileSync(file, generateMasterKey(), { mode: 0o600 });
    process.stderr.write(`registry: SPL_MASTER_KEY not set; generated a development key in ${file}\n`);
  }
  return parseMasterKey(readFileSync(file, 'utf8'));
}

/** Merges the generated bootstrap credentials into the demo file (0600); never prints them. */
function handOverBootstrap(file: string, credentials: { clientId: string; clientSecret: string }): void {
  mkdirSync(dirname(file), { recursive: true });
  const current = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(file, `${JSON.stringify({ ...current, operator: credentials }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function main(): Promise<void> {
  let config: RegistryConfig;
  try {
    config = loadRegistryConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const problems = productionProblems(config);
  if (problems.length) fail(`refusing to start in production:\n  - ${problems.join('\n  - ')}`);

  const secretBox = createSecretBox(
    config.SPL_MASTER_KEY ? parseMasterKey(config.SPL_MASTER_KEY) : developmentMasterKey(config),
  );
  // The app's logger exists only once the app is built; a connection lost before then is not worth a line.
  let log: { warn(obj: object, msg: string): void } | undefined;
  const db: Database = config.DATABASE_URL
    ? createPostgresDatabase({
        url: config.DATABASE_URL,
        queryTimeoutMs: config.SPL_DATABASE_QUERY_TIMEOUT_MS,
        connectTimeoutMs: config.SPL_DATABASE_CONNECT_TIMEOUT_MS,
        onIdleError: (err) => log?.warn({ err }, 'database connection lost; the pool opens a new one'),
      })
    : await createPgliteDatabase({ dataDir: join(config.SPL_DATA_DIR, 'registry-db') });
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    lazyConnect: false,
  });
  redis.on('error', () => {}); // reported by /readyz; ioredis reconnects on its own

  const { app, bootstrapCredentials } = await buildApp({ config, db, redis, secretBox });
  log = app.log;
  if (bootstrapCredentials && !config.SPL_BOOTSTRAP_CLIENT_SECRET) {
    const file = process.env.SPL_DEMO_FILE ?? '.spl/demo.json';
    handOverBootstrap(file, bootstrapCredentials);
    app.log.info(
      { file },
      'bootstrap operator client created; its credentials are in the file (not printed)',
    );
  }

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Reverse order of opening; each step runs even if one before it fails.
    await app.close().catch((err) => app.log.error({ err }, 'closing http failed'));
    await redis.quit().catch(() => redis.disconnect());
    await db.close().catch((err) => app.log.error({ err }, 'closing database failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.SPL_HOST, port: config.SPL_REGISTRY_PORT });
  app.log.info({ publicUrl: config.publicUrl, store: db.kind }, 'registry ready');
}

await main();
