import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './errors.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface CredentialOptions {
  clientId?: string;
  clientSecret?: string;
  /** A key of the demo file, dotted for nested ones: `consumer`, `people.publisher`. */
  as?: string;
}

/** Where `pnpm start` writes the demo's credentials (ARCHITECTURE.md, "The demo file"). */
export function demoFilePath(env: Record<string, string | undefined>, cwd: string): string {
  return resolve(cwd, env.SPL_DEMO_FILE ?? '.spl/demo.json');
}

function readProfile(file: string, key: string): ClientCredentials {
  if (!existsSync(file)) {
    throw new CliError(`no credentials for "${key}": ${file} does not exist (pnpm start writes it)`);
  }
  let node: unknown;
  try {
    node = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 1, { cause: err });
  }
  for (const part of key.split('.')) {
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  }
  const found = node as Partial<ClientCredentials> | undefined;
  if (typeof found?.clientId !== 'string' || typeof found.clientSecret !== 'string') {
    throw new CliError(`${file} has no credentials under "${key}" (expected {clientId, clientSecret})`);
  }
  return { clientId: found.clientId, clientSecret: found.clientSecret };
}

/**
 * Which client the CLI authenticates as, first match wins: --client-id/--client-secret;
 * --as <key> from the demo file; SPL_CLIENT_ID/SPL_CLIENT_SECRET; the demo file's `operator`.
 * The secret is only ever sent to the token endpoint, never printed.
 */
export function resolveCredentials(
  options: CredentialOptions,
  env: Record<string, string | undefined>,
  cwd: string,
): ClientCredentials {
  if (options.clientId !== undefined || options.clientSecret !== undefined) {
    if (!options.clientId || !options.clientSecret) {
      throw new CliError('--client-id and --client-secret go together');
    }
    return { clientId: options.clientId, clientSecret: options.clientSecret };
  }
  const demoFile = demoFilePath(env, cwd);
  if (options.as) return readProfile(demoFile, options.as);
  if (env.SPL_CLIENT_ID || env.SPL_CLIENT_SECRET) {
    if (!env.SPL_CLIENT_ID || !env.SPL_CLIENT_SECRET) {
      throw new CliError('SPL_CLIENT_ID and SPL_CLIENT_SECRET must be set together');
    }
    return { clientId: env.SPL_CLIENT_ID, clientSecret: env.SPL_CLIENT_SECRET };
  }
  if (existsSync(demoFile)) return readProfile(demoFile, 'operator');
  throw new CliError(
    'no credentials: pass --client-id/--client-secret, set SPL_CLIENT_ID/SPL_CLIENT_SECRET, ' +
      `or use the demo's (${demoFile}, written by pnpm start; --as <key> picks one)`,
  );
}
