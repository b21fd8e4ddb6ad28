import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const run = (env: Record<string, string>) =>
  spawnSync(
    process.execPath,
    [resolve(root, 'node_modules/tsx/dist/cli.mjs'), 'services/registry/src/server.ts'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );

describe('registry start-up', () => {
  it('refuses production without a master key, an https public URL and a database, naming each', () => {
    const out = run({ SPL_MODE: 'production' });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/SPL_MASTER_KEY/);
    expect(out.stderr).toMatch(/SPL_PUBLIC_URL/);
    expect(out.stderr).toMatch(/DATABASE_URL/);
  });

  it("refuses the deploy manifests' placeholder secrets in production, naming each", () => {
    const out = run({
      SPL_MODE: 'production',
      SPL_MASTER_KEY: 'REPLACE-ME-openssl-rand-base64-32-aaaaaaaaaaaaaaa',
      SPL_PUBLIC_URL: 'https://spl.example.go.id',
      DATABASE_URL: 'postgres://spl:REPLACE-ME@127.0.0.1:5432/spl',
      SPL_BOOTSTRAP_CLIENT_ID: 'bootstrap-operator',
      SPL_BOOTSTRAP_CLIENT_SECRET: 'REPLACE-ME-at-least-24-random-characters',
    });
    expect(out.status).toBe(1);
    for (const name of ['SPL_MASTER_KEY', 'SPL_BOOTSTRAP_CLIENT_SECRET', 'DATABASE_URL'])
      expect(out.stderr).toMatch(new RegExp(`${name} still holds a placeholder`));
  });

  it('stops on a bad variable and names it', () => {
    const out = run({ SPL_REGISTRY_PORT: 'eighty-eighty' });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/SPL_REGISTRY_PORT/);
  });
});
