import { ConfigError } from '@spl/env-config';
import { loadDemoConfig } from './config.js';
import { buildDemoUpstream } from './upstream-app.js';

let config: ReturnType<typeof loadDemoConfig>;
try {
  config = loadDemoConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`demo upstream: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const app = await buildDemoUpstream({
  logger: { level: config.SPL_LOG_LEVEL },
  webhookSecretFile: config.SPL_DEMO_WEBHOOK_SECRET_FILE,
});

let closing = false;
async function close(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  await app.close().catch((err) => app.log.error({ err }, 'closing http failed'));
  process.exit(0);
}
process.on('SIGINT', () => void close('SIGINT'));
process.on('SIGTERM', () => void close('SIGTERM'));

await app.listen({ host: config.SPL_HOST, port: config.SPL_DEMO_UPSTREAM_PORT });
app.log.info('demo upstream (Disdukcapil kependudukan v1) ready');
