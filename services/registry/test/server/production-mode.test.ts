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

  it('stops on a bad variable and names it', () => {
    const out = run({ SPL_REGISTRY_PORT: 'eighty-eighty' });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/SPL_REGISTRY_PORT/);
  });
});
