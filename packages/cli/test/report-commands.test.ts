import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';
import { type RegistryProcess, startRegistryProcess } from './helpers/registry-process.js';

/** `spl report monev` against a running registry (an empty hub: the shape, not the numbers). */
describe('spl report monev', () => {
  let registry: RegistryProcess;
  let cwd: string;

  beforeAll(async () => {
    registry = await startRegistryProcess();
    cwd = mkdtempSync(join(tmpdir(), 'spl-cli-report-'));
  }, 90_000);
  afterAll(async () => {
    await registry?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  const spl = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--url', registry.url, ...args], {
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
      env: { SPL_CLIENT_ID: registry.operator.clientId, SPL_CLIENT_SECRET: registry.operator.clientSecret },
      cwd,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('prints the JSON report, and writes CSV or HTML to a file', async () => {
    const json = await spl(
      'report',
      'monev',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-02-01T00:00:00Z',
    );
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      org: null,
      from: '2026-01-01T00:00:00.000Z',
      apis: [],
      topics: [],
    });

    const csv = await spl(
      'report',
      'monev',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-02-01T00:00:00Z',
      '--format',
      'csv',
      '--out',
      'monev.csv',
    );
    expect(csv.code, csv.err).toBe(0);
    expect(readFileSync(join(cwd, 'monev.csv'), 'utf8')).toMatch(/^section,org,name,version,/);

    const page = await spl(
      'report',
      'monev',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-02-01T00:00:00Z',
      '--format',
      'html',
    );
    expect(page.code, page.err).toBe(0);
    expect(page.out).toMatch(/^<!doctype html>/);
  });

  it('refuses a date that is not one before asking the registry', async () => {
    const res = await spl('report', 'monev', '--from', 'yesterday', '--to', '2026-02-01T00:00:00Z');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/--from must be a date-time/);
  });
});
