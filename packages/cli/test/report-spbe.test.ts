import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';
import { type RegistryProcess, startRegistryProcess } from './helpers/registry-process.js';

describe('spl report spbe against a running registry', () => {
  let registry: RegistryProcess;
  let cwd: string;
  const year = String(new Date().getUTCFullYear());

  beforeAll(async () => {
    registry = await startRegistryProcess();
    cwd = mkdtempSync(join(tmpdir(), 'spl-cli-report-'));
  }, 90_000);
  afterAll(async () => {
    await registry?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  async function spl(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([...args, '--url', registry.url], {
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
      env: { SPL_CLIENT_ID: registry.operator.clientId, SPL_CLIENT_SECRET: registry.operator.clientSecret },
      cwd,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints the level with its reasons and the coverage table', async () => {
    const { code, out } = await spl('report', 'spbe', '--period', year);
    expect(code).toBe(0);
    expect(out).toContain(`SPBE Indikator 18, period ${year}: level 1 of 5`);
    expect(out).toContain('✗ level 2');
    expect(out).toContain('no roster of Perangkat Daerah is declared');
    expect(out).toMatch(/ORGANISATION\s+ROSTER\s+STATUS/);
    expect(out).toContain('diskominfo');
  });

  it('writes the printable HTML, the JSON and the map as PNG and SVG', async () => {
    for (const file of ['report.html', 'report.json', 'map.png', 'map.svg']) {
      const { code, err } = await spl('report', 'spbe', '--period', year, '-o', file);
      expect(code, err).toBe(0);
      expect(err).toContain(`to ${file}`);
    }
    expect(readFileSync(join(cwd, 'report.html'), 'utf8')).toContain(
      'Tingkat Kematangan Penggunaan Sistem Penghubung Layanan',
    );
    expect(JSON.parse(readFileSync(join(cwd, 'report.json'), 'utf8'))).toMatchObject({ level: 1 });
    expect(readFileSync(join(cwd, 'map.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(cwd, 'map.svg'), 'utf8')).toContain('<svg');
  });

  it('refuses a bad period with the registry problem and an unknown output kind before asking', async () => {
    const bad = await spl('report', 'spbe', '--period', '26');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^spl: SPL_VALIDATION: /);
    const kind = await spl('report', 'spbe', '--period', year, '-o', 'report.pdf');
    expect(kind.code).toBe(1);
    expect(kind.err).toContain('the file must end in one of .html, .json, .svg, .png, .dot');
  });
});
