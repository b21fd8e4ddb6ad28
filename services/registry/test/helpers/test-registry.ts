import { randomBytes } from 'node:crypto';
import { createSecretBox, parseMasterKey } from '@spl/secret-box';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runLogger } from '../../../../test/support/run-logs.js';
import { buildApp, type RegistryApp } from '../../src/app.js';
import { loadRegistryConfig } from '../../src/config.js';
import type { RegistryContext } from '../../src/registry-context.js';
import { createPgliteDatabase, createPostgresDatabase, type Database } from '../../src/store/database.js';

/** POST /oauth2/token (client_credentials, client_secret_post), answered as it is: no cache, no check. */
export function tokenRequest(app: FastifyInstance, clientId: string, clientSecret: string, scope?: string) {
  return app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      ...(scope ? { scope } : {}),
    }).toString(),
  });
}

export type StoreKind = 'postgres' | 'pglite';

export const TEST_DATABASE_URL =
  process.env.SPL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL =
  process.env.SPL_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_ISSUER = 'http://registry.test';

export interface TestRegistry {
  app: FastifyInstance;
  ctx: RegistryContext;
  db: Database;
  redis: Redis;
  /** The schema (postgres) this registry lives in; dropped on close. */
  schema: string;
  prefix: string;
  bootstrap: { clientId: string; clientSecret: string };
  /** A token for the given client credentials (cached per client). */
  token(clientId: string, clientSecret: string, scope?: string): Promise<string>;
  /** A token of the bootstrap operator client. */
  operatorToken(): Promise<string>;
  /** Creates a named person with a personal client and returns a token for them. */
  person(input: {
    org: string;
    roles: string[];
    username?: string;
  }): Promise<{ token: string; userId: string; clientId: string; clientSecret: string; username: string }>;
  /** Creates an organisation (as the bootstrap operator). */
  organisation(slug: string, kind?: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens a fresh, isolated store: a new schema on the test PostgreSQL, or an in-memory PGlite. */
export async function openTestDatabase(
  store: StoreKind,
): Promise<{ db: Database; schema: string; drop: () => Promise<void> }> {
  if (store === 'pglite') {
    const db = await createPgliteDatabase({});
    return { db, schema: 'public', drop: async () => db.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = createPostgresDatabase({ url: TEST_DATABASE_URL, schema, max: 5 });
  return {
    db,
    schema,
    drop: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * A registry on its own store and Redis prefix, built with `buildApp` and driven with
 * `inject`. Pass `env` to override configuration (`SPL_MASTER_KEY` included), `clock` to
 * control time.
 */
export async function buildTestRegistry(
  options: {
    store?: StoreKind;
    env?: Record<string, string>;
    clock?: () => Date;
    /** Fastify logger options (e.g. `{ stream }` to capture the log); when absent, the run's log or silent. */
    logger?: Record<string, unknown>;
  } = {},
): Promise<TestRegistry> {
  const store = options.store ?? (process.env.SPL_TEST_STORE as StoreKind | undefined) ?? 'postgres';
  const { db, schema, drop } = await openTestDatabase(store);
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const config = loadRegistryConfig({
    SPL_PUBLIC_URL: TEST_ISSUER,
    SPL_REDIS_PREFIX: prefix,
    REDIS_URL: TEST_REDIS_URL,
    SPL_BOOTSTRAP_CLIENT_ID: 'bootstrap-operator',
    SPL_BOOTSTRAP_CLIENT_SECRET: 'bootstrap-secret-for-tests-only-0123456789',
    SPL_LOG_LEVEL: 'silent',
    ...options.env,
  });
  // SPL_MASTER_KEY in `env` seals with that key (as server.ts does), so a broker given the same
  // key opens the webhook secrets of the snapshot; otherwise a key of this registry's own.
  const secretBox = createSecretBox(
    config.SPL_MASTER_KEY ? parseMasterKey(config.SPL_MASTER_KEY) : randomBytes(32),
  );
  let built: RegistryApp;
  try {
    built = await buildApp({
      config,
      db,
      redis,
      secretBox,
      // Silent unless `pnpm test` keeps the run's logs for its final scan.
      logger: options.logger ?? runLogger() ?? false,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (err) {
    await drop();
    redis.disconnect();
    throw err;
  }
  const { app, ctx } = built;
  await app.ready();
  const bootstrap = {
    clientId: config.SPL_BOOTSTRAP_CLIENT_ID!,
    clientSecret: config.SPL_BOOTSTRAP_CLIENT_SECRET!,
  };
  const tokens = new Map<string, string>();

  const token = async (clientId: string, clientSecret: string, scope?: string) => {
    const cacheKey = `${clientId}\n${clientSecret}\n${scope ?? ''}`;
    const cached = tokens.get(cacheKey);
    if (cached) return cached;
    const res = await tokenRequest(app, clientId, clientSecret, scope);
    if (res.statusCode !== 200) throw new Error(`token for ${clientId}: ${res.statusCode} ${res.body}`);
    const t = res.json().access_token as string;
    tokens.set(cacheKey, t);
    return t;
  };
  const operatorToken = () => token(bootstrap.clientId, bootstrap.clientSecret);
  let people = 0;

  return {
    app,
    ctx,
    db,
    redis,
    schema,
    prefix,
    bootstrap,
    token,
    operatorToken,
    async organisation(slug, kind = 'perangkat-daerah') {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/organisations',
        headers: { authorization: `Bearer ${await operatorToken()}` },
        payload: { slug, name: `Organisation ${slug}`, kind },
      });
      if (res.statusCode !== 201) throw new Error(`organisation ${slug}: ${res.statusCode} ${res.body}`);
    },
    async person(input) {
      const username = input.username ?? `person-${++people}-${randomBytes(3).toString('hex')}`;
      const res = await app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: `Bearer ${await operatorToken()}` },
        payload: { username, name: `Person ${username}`, org: input.org, roles: input.roles },
      });
      if (res.statusCode !== 201) throw new Error(`person: ${res.statusCode} ${res.body}`);
      const { user, credentials } = res.json();
      return {
        token: await token(credentials.clientId, credentials.clientSecret),
        userId: user.id,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        username,
      };
    },
    async close() {
      await app.close();
      await deleteRedisPrefix(redis, prefix).catch(() => {});
      redis.disconnect();
      await drop();
    },
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
