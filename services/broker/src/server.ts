import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { readMaxmemoryPolicy } from './observability/redis-policy.js';
import { readConfigOrExit } from './process-setup.js';

/** The publish API process (port SPL_BROKER_PORT). Delivery runs in worker.ts. */
async function main(): Promise<void> {
  const config = readConfigOrExit('broker');
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => {}); // reported by /readyz; ioredis reconnects on its own

  let policy: string | null = null;
  const { app, runtime } = await buildApp({ config, redis, secretBox: null, maxmemoryPolicy: () => policy });

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close().catch((err) => app.log.error({ err }, 'closing http failed'));
    await redis.quit().catch(() => redis.disconnect());
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.SPL_HOST, port: config.SPL_BROKER_PORT });
  policy = await readMaxmemoryPolicy(redis);
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
