import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { errors } from '../errors.js';
import { isDatabaseUnavailable, isUnstorableValue } from './pg-errors.js';

/** What domain code may do with the store: run parameterised SQL. */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/**
 * The registry's database: a PostgreSQL server (DATABASE_URL) or an embedded PGlite in
 * SPL_DATA_DIR. Both speak the same SQL, and one set of migrations serves both.
 */
export interface Database extends Sql {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

// Read int8 as a JS number: our bigints (audit seq) stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** Seconds a client is asked to wait when the database is away (a PostgreSQL restart takes a few). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Runs a query, turning a value the store cannot hold into the client's error (a 400) and a
 * database that is not there into a 503 with Retry-After (not a 500: the request was fine).
 */
async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUnstorableValue(err))
      throw errors.SPL_VALIDATION(
        'a value holds a character or form the store cannot take (a NUL byte, a malformed id)',
      );
    if (isDatabaseUnavailable(err))
      throw errors.SPL_UNAVAILABLE('the database is not available; try again shortly', {
        cause: err,
        headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
      });
    throw err;
  }
}

export function createPostgresDatabase(options: {
  url: string;
  schema?: string;
  max?: number;
  connectTimeoutMs?: number;
  /** A statement not answered within this fails as the database being away; its connection is dropped. */
  queryTimeoutMs?: number;
  /** Told when an idle connection is lost (the server stopped or restarted); the pool replaces it. */
  onIdleError?: (err: Error) => void;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    // A server that does not answer (a network partition, not a refusal) fails the request
    // after this instead of holding it.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // A server that stops answering on a connection it already holds (hung, or partitioned
    // with no reset) fails the statement after this; the pool destroys that client. TCP
    // keep-alive notices a peer that is gone for good on idle connections.
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process: the pool drops it and
  // opens a new one for the next query.
  pool.on('error', (err) => options.onIdleError?.(err));
  const watched = new WeakSet<pg.PoolClient>();
  return {
    kind: 'postgres',
    async query(text, params) {
      const result = await guarded(() => pool.query(text, params as unknown[]));
      return result.rows;
    },
    async transaction(fn) {
      const client = await guarded(() => pool.connect());
      // Checked out, the client is no longer watched by the pool: a connection lost between two
      // statements would be an unhandled 'error' event; the next statement fails instead.
      if (!watched.has(client)) {
        watched.add(client);
        client.on('error', () => {});
      }
      let broken: Error | undefined;
      try {
        await guarded(() => client.query('BEGIN'));
        const tx: Sql = {
          query: async (text, params) => (await guarded(() => client.query(text, params as unknown[]))).rows,
        };
        const out = await fn(tx);
        await guarded(() => client.query('COMMIT'));
        return out;
      } catch (err) {
        if (isDatabaseUnavailable(err) || isDatabaseUnavailable((err as Error).cause)) broken = err as Error;
        else await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        // A client whose connection is gone is destroyed, not handed to the next request.
        client.release(broken);
      }
    },
    async exec(script) {
      await guarded(() => pool.query(script));
    },
    async close() {
      await pool.end();
    },
  };
}

/** Embedded PostgreSQL in `dataDir`, or in memory when `dataDir` is undefined (tests). */
export async function createPgliteDatabase(options: { dataDir?: string }): Promise<Database> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  // PGlite is one connection; transactions already run one at a time.
  let closed = false;
  const query: Sql['query'] = async (text, params) =>
    (await guarded(() => db.query(text, params as unknown[]))).rows as never;
  return {
    kind: 'pglite',
    query,
    async transaction(fn) {
      return db.transaction(async (tx) =>
        fn({
          query: async (text, params) =>
            (await guarded(() => tx.query(text, params as unknown[]))).rows as never,
        }),
      );
    },
    async exec(script) {
      await db.exec(script);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
