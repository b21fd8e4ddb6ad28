import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from './errors.js';

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Checks before a request that issues secrets, so they are not lost to an unwritable path. */
export function checkSecretsFile(file: string, cwd: string): string {
  const path = resolve(cwd, file);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CliError(`cannot write ${file}: folder ${dir} does not exist`);
  }
  if (existsSync(path) && statSync(path).isDirectory())
    throw new CliError(`cannot write ${file}: it is a folder`);
  return path;
}

/** Writes secrets readable by the owner only (0600), also when the file existed before. */
export function writeSecretsFile(path: string, value: unknown): void {
  writeFileSync(path, `${formatJson(value)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A record as `key: value` lines, nested objects flattened with dots; long text elided. */
export function formatRecord(record: Record<string, unknown>, omit: string[] = []): string {
  const lines: string[] = [];
  const walk = (value: unknown, key: string) => {
    if (omit.includes(key)) return;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
      return;
    }
    let text: string;
    if (Array.isArray(value)) {
      text = value.every((v) => typeof v !== 'object') ? value.join(', ') : JSON.stringify(value);
    } else if (typeof value === 'string' && value.length > 200) {
      text = `(${value.length} characters)`;
    } else {
      text = String(value);
    }
    lines.push(`${key}: ${text}`);
  };
  walk(record, '');
  return lines.join('\n');
}
