/**
 * Writes the registry's OpenAPI document to a file, for @spl/api-client to generate its
 * types from (`pnpm gen:clients`). The document comes from the routes' own TypeBox schemas:
 * the registry is built in-process on an in-memory PGlite and the real Redis at REDIS_URL
 * (under a random key prefix, removed afterwards), asked for GET /docs/json, and closed.
 *
 *   tsx services/registry/scripts/export-openapi.ts [--out <file>]
 *
 * Default output: packages/api-client/openapi/registry.json. The configuration is fixed
 * rather than read from the environment (REDIS_URL aside), so the document does not depend
 * on who runs the script.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { buildApp } from '../src/app.js';
import { loadRegistryConfig } from '../src/config.js';
import { createPgliteDatabase } from '../src/store/database.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_OUT = resolve(repoRoot, 'packages/api-client/openapi/registry.json');

/** Copies `record` with its keys sorted, so a route registered elsewhere moves no other line. */
function sortKeys<T>(record: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!record) return record;
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export async function exportOpenapi(): Promise<string> {
  const prefix = `openapi-export-${randomBytes(5).toString('hex')}`;
  const config = loadRegistryConfig({
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    SPL_REDIS_PREFIX: prefix,
    SPL_LOG_LEVEL: 'silent',
  });
  const db = await createPgliteDatabase({});
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect().catch((err: unknown) => {
      throw new Error(`cannot reach Redis at ${config.REDIS_URL} (set REDIS_URL)`, { cause: err });
    });
    const { app } = await buildApp({
      config,
      db,
      redis,
      secretBox: createSecretBox(randomBytes(32)),
      logger: false,
    });
    try {
      await app.ready();
      const res = await app.inject({ method: 'GET', url: '/docs/json' });
      if (res.statusCode !== 200) throw new Error(`GET /docs/json answered ${res.statusCode}: ${res.body}`);
      const doc = res.json() as {
        paths?: Record<string, unknown>;
        components?: { schemas?: Record<string, unknown> };
      };
      doc.paths = sortKeys(doc.paths);
      if (doc.components?.schemas) doc.components.schemas = sortKeys(doc.components.schemas);
      return `${JSON.stringify(doc, null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    await deletePrefix(redis, prefix).catch(() => {});
    redis.disconnect();
    await db.close();
  }
}

const { values } = parseArgs({ options: { out: { type: 'string', short: 'o' } } });
const out = values.out ? resolve(values.out) : DEFAULT_OUT;
try {
  const json = await exportOpenapi();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, json);
  process.stderr.write(`registry OpenAPI document written to ${out}\n`);
} catch (err) {
  process.stderr.write(`export-openapi: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
