import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Database, Sql } from '../store/database.js';
import { migrate } from '../store/migrate.js';

/**
 * Backup and restore of everything the hub keeps (issue 5 §7; BKT 21, BTM 17, MUE 17): every
 * table of the registry's store — organisations, APIs and documents, applications and
 * credentials (hashed), signing keys and sealed secrets, subscriptions, topics, usage records,
 * probes, the audit chain — and the data planes' evidence logs (files).
 *
 * The format is one gzipped JSON Lines file, readable without SPL: a header, then per table
 * its rows as PostgreSQL renders them (`row_to_json`, so every type round-trips through its
 * own text form), then the evidence files. It holds no plaintext secret, but it holds what the
 * master key opens: the master key itself is never in it and must be kept apart (docs).
 *
 * Restore goes only into an empty store: it runs the migrations, inserts the tables parents
 * first (foreign keys), sets every sequence past its highest value, all in one transaction —
 * so a failed restore leaves the store as empty as it found it.
 */

export const BACKUP_FORMAT = 'spl-backup/1';

interface Header {
  kind: 'header';
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  store: Database['kind'];
  migrations: string[];
  tables: string[];
}
interface TableLine {
  kind: 'table';
  table: string;
  rows: unknown[];
}
interface FileLine {
  kind: 'file';
  /** Path below the evidence root, `/`-separated. */
  path: string;
  sha256: string;
  base64: string;
}
interface EndLine {
  kind: 'end';
  rows: number;
  files: number;
}
type Line = Header | TableLine | FileLine | EndLine;

export class BackupError extends Error {
  override name = 'BackupError';
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The store's own tables (current schema), parents before children by foreign key. */
async function tablesInDependencyOrder(sql: Sql): Promise<string[]> {
  const tables = (
    await sql.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY c.relname`,
    )
  ).map((r) => r.name);
  const edges = await sql.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.oid <> p.oid`,
  );
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const e of edges) parents.get(e.child)?.add(e.parent);
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = tables.filter((t) => !placed.has(t) && [...parents.get(t)!].every((p) => placed.has(p)));
    if (ready.length === 0) throw new BackupError('the store has a foreign-key cycle; cannot order tables');
    for (const t of ready) {
      ordered.push(t);
      placed.add(t);
    }
  }
  return ordered;
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  try {
    walk(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return out;
}

export interface BackupSummary {
  file: string;
  tables: number;
  rows: number;
  files: number;
  bytes: number;
}

/**
 * Writes a backup of `db` and of the files under each of `evidenceRoots` (keyed by a short
 * name, e.g. `gateway`, `broker`) to `file` (mode 0600). Reads in one transaction, so the
 * tables are one consistent picture.
 */
export async function backupHub(options: {
  db: Database;
  file: string;
  evidenceRoots?: Record<string, string>;
  now?: () => Date;
}): Promise<BackupSummary> {
  const lines: string[] = [];
  let rows = 0;
  await options.db.transaction(async (tx) => {
    if (options.db.kind === 'postgres') await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const tables = await tablesInDependencyOrder(tx);
    const migrations = tables.includes('schema_migrations')
      ? (await tx.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).map(
          (r) => r.name,
        )
      : [];
    const header: Header = {
      kind: 'header',
      format: BACKUP_FORMAT,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
      store: options.db.kind,
      migrations,
      tables,
    };
    lines.push(JSON.stringify(header));
    for (const table of tables) {
      const data = await tx.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM ${quoteIdent(table)} t`,
      );
      rows += data.length;
      lines.push(
        JSON.stringify({
          kind: 'table',
          table,
          rows: data.map((d) => JSON.parse(d.row)),
        } satisfies TableLine),
      );
    }
  });
  let files = 0;
  for (const [name, root] of Object.entries(options.evidenceRoots ?? {})) {
    for (const path of listFiles(root)) {
      const content = readFileSync(path);
      const line: FileLine = {
        kind: 'file',
        path: [name, ...relative(root, path).split(sep)].join('/'),
        sha256: createHash('sha256').update(content).digest('hex'),
        base64: content.toString('base64'),
      };
      lines.push(JSON.stringify(line));
      files++;
    }
  }
  lines.push(JSON.stringify({ kind: 'end', rows, files } satisfies EndLine));
  const gz = gzipSync(`${lines.join('\n')}\n`);
  mkdirSync(dirname(options.file), { recursive: true });
  writeFileSync(options.file, gz, { mode: 0o600 });
  return { file: options.file, tables: JSON.parse(lines[0]!).tables.length, rows, files, bytes: gz.length };
}

function readBackup(file: string): Line[] {
  let text: string;
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8');
  } catch (err) {
    throw new BackupError(`${file} is not an SPL backup (${(err as Error).message})`);
  }
  const lines = text
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new BackupError(`${file}: line ${i + 1} is not JSON`);
      }
    });
  const header = lines[0];
  if (header?.kind !== 'header' || header.format !== BACKUP_FORMAT)
    throw new BackupError(`${file} is not an ${BACKUP_FORMAT} backup`);
  const end = lines.at(-1);
  if (end?.kind !== 'end') throw new BackupError(`${file} is truncated (no end line)`);
  return lines;
}

/**
 * Restores a backup into an empty store (`db`, migrated here) and writes its evidence files
 * under `evidenceRoots[name]` (refusing to overwrite a file that exists). Refuses a store that
 * already holds content, and a backup taken with migrations this version does not have.
 */
export async function restoreHub(options: {
  db: Database;
  file: string;
  evidenceRoots?: Record<string, string>;
}): Promise<{ tables: number; rows: number; files: number }> {
  const lines = readBackup(options.file);
  const header = lines[0] as Header;
  const applied = await migrate(options.db);
  const known = new Set(
    (await options.db.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name),
  );
  const unknown = header.migrations.filter((m) => !known.has(m));
  if (unknown.length)
    throw new BackupError(
      `the backup comes from a newer version (migrations ${unknown.join(', ')}); upgrade first`,
    );
  void applied;
  let rows = 0;
  await options.db.transaction(async (tx) => {
    const tables = await tablesInDependencyOrder(tx);
    for (const table of tables) {
      if (table === 'schema_migrations') continue;
      const [{ n }] = (await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quoteIdent(table)}`,
      )) as [{ n: number }];
      if (n > 0)
        throw new BackupError(`the store is not empty (${table} has ${n} rows); restore needs an empty one`);
    }
    const byTable = new Map<string, unknown[]>();
    for (const l of lines) if (l.kind === 'table') byTable.set(l.table, l.rows);
    for (const table of tables) {
      if (table === 'schema_migrations') continue;
      const data = byTable.get(table) ?? [];
      // json_populate_record parses every column from its text form, as PostgreSQL rendered it.
      for (let i = 0; i < data.length; i += 500) {
        const chunk = data.slice(i, i + 500);
        await tx.query(
          `INSERT INTO ${quoteIdent(table)} SELECT r.* FROM json_array_elements($1::json) e,
             LATERAL json_populate_record(NULL::${quoteIdent(table)}, e) r`,
          [JSON.stringify(chunk)],
        );
      }
      rows += data.length;
    }
    // Sequences (serial and identity columns) continue after the restored rows.
    const sequences = await tx.query<{ tbl: string; col: string; seq: string }>(
      `SELECT c.table_name AS tbl, c.column_name AS col,
              pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) AS seq
         FROM information_schema.columns c
        WHERE c.table_schema = current_schema()
          AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL`,
    );
    for (const s of sequences)
      await tx.query(
        `SELECT setval($1, GREATEST(COALESCE((SELECT max(${quoteIdent(s.col)}) FROM ${quoteIdent(s.tbl)}), 0), 1),
                (SELECT count(*) > 0 FROM ${quoteIdent(s.tbl)}))`,
        [s.seq],
      );
  });
  let files = 0;
  for (const l of lines) {
    if (l.kind !== 'file') continue;
    const [name, ...rest] = l.path.split('/');
    const root = options.evidenceRoots?.[name!];
    if (!root || rest.some((p) => p === '..' || p === '')) continue;
    const content = Buffer.from(l.base64, 'base64');
    if (createHash('sha256').update(content).digest('hex') !== l.sha256)
      throw new BackupError(`evidence file ${l.path} in the backup is damaged (digest mismatch)`);
    const path = join(root, ...rest);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { flag: 'wx' });
    files++;
  }
  return { tables: header.tables.length, rows, files };
}
