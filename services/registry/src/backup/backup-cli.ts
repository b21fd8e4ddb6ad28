import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '@spl/env-config';
import { type Static, Type } from 'typebox';
import { createPgliteDatabase, createPostgresDatabase, type Database } from '../store/database.js';
import { BackupError, backupHub, restoreHub } from './store-backup.js';

/**
 * `pnpm backup <file>` / `pnpm restore <file>` (issue 5 §7): the registry's store — the
 * PostgreSQL server of DATABASE_URL, or the embedded store in SPL_DATA_DIR — and the evidence
 * logs under SPL_DATA_DIR (gateway and broker). Run restore with the hub stopped, into an
 * empty store; the master key (SPL_MASTER_KEY, or SPL_DATA_DIR/master.key in development) is
 * not in the backup and must be the same one afterwards (docs/operations.md).
 */
const BackupEnv = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  SPL_DATA_DIR: Type.String({ default: '.spl/data' }),
});
type BackupEnv = Static<typeof BackupEnv>;

function usage(): never {
  process.stderr.write('usage: pnpm backup <file>  |  pnpm restore <file>\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const [command, file] = process.argv.slice(2);
  if ((command !== 'backup' && command !== 'restore') || !file) usage();
  let env: BackupEnv;
  try {
    env = loadConfig(BackupEnv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${command}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const db: Database = env.DATABASE_URL
    ? createPostgresDatabase({ url: env.DATABASE_URL, max: 2 })
    : await createPgliteDatabase({ dataDir: join(env.SPL_DATA_DIR, 'registry-db') });
  const evidenceRoots = {
    gateway: join(env.SPL_DATA_DIR, 'gateway', 'evidence'),
    broker: join(env.SPL_DATA_DIR, 'broker', 'evidence'),
  };
  const path = resolve(file);
  try {
    if (command === 'backup') {
      const s = await backupHub({ db, file: path, evidenceRoots });
      process.stdout.write(
        `backed up ${s.tables} tables (${s.rows} rows) and ${s.files} evidence files to ${s.file} (${s.bytes} bytes, mode 0600)\n`,
      );
    } else {
      const s = await restoreHub({ db, file: path, evidenceRoots });
      process.stdout.write(
        `restored ${s.tables} tables (${s.rows} rows) and ${s.files} evidence files from ${path}\n`,
      );
    }
  } catch (err) {
    if (err instanceof BackupError) {
      process.stderr.write(`${command}: ${err.message}\n`);
      process.exitCode = 1;
    } else throw err;
  } finally {
    await db.close();
  }
}

await main();
