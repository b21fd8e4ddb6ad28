import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

const MIGRATIONS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'migrations');
/**
 * Any constant both registry instances agree on; guards concurrent migration of one schema
 * (the lock's second key), not of other schemas in the same database.
 */
const MIGRATION_LOCK = 7_301_001;

/**
 * Applies `migrations/NNNN_name.sql` in order, each once, each in its own transaction.
 * Several registry instances starting together take an advisory lock, so one migrates
 * and the others wait.
 */
export async function migrate(db: Database): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, coalesce(hashtext(current_schema()), 0))', [
      MIGRATION_LOCK,
    ]);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name),
    );
    for (const file of files) {
      if (done.has(file)) continue;
      const script = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
      // Statements are split on `;` at line ends; our migrations contain no functions.
      for (const statement of script.split(/;\s*$/m)) {
        if (statement.replace(/--.*$/gm, '').trim()) await tx.query(statement);
      }
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
  });
  return applied;
}
