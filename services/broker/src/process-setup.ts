import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEgressPolicy, EgressConfigError } from '@spl/egress';
import { ConfigError } from '@spl/env-config';
import { createSecretBox, parseMasterKey, type SecretBox } from '@spl/secret-box';
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
