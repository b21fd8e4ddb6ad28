import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `pnpm test` ends by scanning every log line the run's services wrote
 * (scripts/scan-test-logs.ts; issue 6 §3). The scan must find each kind of credential and
 * name where, without printing the value — and pass logs that hold none.
 */
const root = join(import.meta.dirname, '../..');
const scan = (dir: string) =>
  spawnSync(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/scan-test-logs.ts', dir],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );

describe('the scan of the whole run’s logs', () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'spl-scan-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('passes service logs that hold no credential', () => {
    const res = scan(
      folder({
        'vitest-1.log': '{"level":30,"msg":"incoming request","req":{"url":"/oauth2/token"}}\n',
        'demo-hub-x/logs/registry.log': '{"level":40,"msg":"database connection lost"}\n',
      }),
    );
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/2 files, 2 lines.*0 lines with a credential/);
  });

  it('fails on a client secret, a webhook secret, a token, a fixture secret or a restricted value, naming file and line but not the value', () => {
    const secret = `spl_sk_${'A'.repeat(43)}`;
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhcHAtMSJ9.c2lnbmF0dXJlLXZhbHVl';
    const res = scan(
      folder({
        'vitest-2.log': [
          '{"msg":"ok"}',
          `{"msg":"client ${secret}"}`,
          `{"msg":"hook whsec_${'b'.repeat(44)}"}`,
          `{"req":{"url":"/v1/x?access_token=${jwt}"}}`,
          '{"msg":"bootstrap-secret-for-tests-only-0123456789"}',
          '{"nama_ibu":"Siti Rahayu Dikecualikan"}',
        ].join('\n'),
      }),
    );
    expect(res.status).toBe(1);
    for (const [line, kind] of [
      [2, 'client secret'],
      [3, 'webhook secret'],
      [4, 'JSON Web Token'],
      [5, 'fixture secret'],
      [6, 'dikecualikan sentinel'],
    ] as const)
      expect(res.stdout).toContain(`vitest-2.log:${line}: ${kind}`);
    expect(res.stdout).not.toContain(secret);
    expect(res.stdout).not.toContain(jwt);
  });
});
