import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEgressPolicy, EgressConfigError } from '@spl/egress';
import { ConfigError } from '@spl/env-config';
import { createSecretBox, parseMasterKey, type SecretBox } from '@spl/secret-box';
import type { Redis } from 'ioredis';
import { type BrokerConfig, BrokerConfigError, loadBrokerConfig, productionProblems } from './config.js';

/** What server.ts and worker.ts both do before anything opens: config, refusals, master key. */
export function fail(processName: string, message: string): never {
  process.stderr.write(`${processName}: ${message}\n`);
  process.exit(1);
}

export function readConfigOrExit(processName: string): BrokerConfig {
  let config: BrokerConfig;
  try {
    config = loadBrokerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof BrokerConfigError) fail(processName, err.message);
    throw err;
  }
  try {
    createEgressPolicy(config.SPL_EGRESS_ALLOW);
  } catch (err) {
    if (err instanceof EgressConfigError) fail(processName, err.message);
    throw err;
  }
  const problems = productionProblems(config);
  if (problems.length) fail(processName, `refusing to start in production:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/** SPL_MASTER_KEY, or in development the key the registry wrote beside its data; else none. */
export function openSecretBox(config: BrokerConfig): SecretBox | null {
  if (config.SPL_MASTER_KEY) return createSecretBox(parseMasterKey(config.SPL_MASTER_KEY));
  const file = join(config.SPL_DATA_DIR, 'master.key');
  if (config.SPL_MODE === 'development' && existsSync(file))
    return createSecretBox(parseMasterKey(readFileSync(file, 'utf8')));
  return null;
}

/**
 * How long a SIGTERM/SIGINT close may take before the process exits anyway. Closing waits on
 * Redis (BullMQ finishing active jobs, the usage flush, QUIT), and ioredis queues a command for
 * a Redis that is gone until it is back — so without a bound a worker whose Redis stopped first
 * never exits (found by the soak, docs/soak.md). Under Kubernetes' 30 s grace period. A job
 * left active is taken again by another worker once its lock expires: a duplicate, never a loss.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

interface ShutdownLog {
  warn: (obj: object, msg: string) => void;
  error: (obj: object, msg: string) => void;
}

/** Arms the backstop: exit code 1, saying why, if the close has not finished within the grace. */
export function exitIfCloseHangs(log: ShutdownLog, signal: string, graceMs = SHUTDOWN_GRACE_MS): void {
  setTimeout(() => {
    log.error({ signal, graceMs }, 'shutdown did not finish in time (is Redis reachable?); exiting');
    process.exit(1);
  }, graceMs).unref();
}

/** Waits for one step of a close at most `ms`, so a step stuck on Redis does not hold up the others. */
export async function closeStep(
  log: ShutdownLog,
  what: string,
  step: Promise<unknown>,
  ms: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((ok) => {
    timer = setTimeout(() => ok('late'), ms);
  });
  try {
    const outcome = await Promise.race([step.then(() => 'done' as const), late]);
    if (outcome === 'late') log.warn({ step: what, ms }, 'shutdown step did not finish in time; going on');
  } catch (err) {
    log.error({ err, step: what }, 'shutdown step failed');
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT when Redis answers; otherwise drop the connection (a QUIT to a Redis that is gone waits forever). */
export async function closeRedis(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  await connection.quit().catch(() => connection.disconnect());
}
