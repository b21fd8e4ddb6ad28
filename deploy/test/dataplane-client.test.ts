import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../../services/registry/test/helpers/test-registry.js';
import { DEPLOY } from './helpers/tools.js';

// deploy/gateway-client.mjs as compose runs it, once for the gateway and once for the broker,
// against a real registry. The script runs asynchronously: the registry answers it from this
// process's event loop.
describe('the compose data-plane client script', () => {
  let registry: TestRegistry;
  let registryUrl: string;
  const dir = mkdtempSync(join(tmpdir(), 'spl-dataplane-client-'));
  const demoFile = join(dir, 'demo.json');

  beforeAll(async () => {
    registry = await buildTestRegistry();
    registryUrl = await registry.app.listen({ host: '127.0.0.1', port: 0 });
    writeFileSync(demoFile, JSON.stringify({ operator: registry.bootstrap }), { mode: 0o600 });
  });
  afterAll(async () => {
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runScript = (name: string, envFile: string) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [join(DEPLOY, 'gateway-client.mjs')],
        {
          encoding: 'utf8',
          timeout: 20_000,
          env: {
            PATH: process.env.PATH,
            SPL_REGISTRY_URL: registryUrl,
            SPL_DEMO_FILE: demoFile,
            SPL_DATAPLANE_NAME: name,
            SPL_DATAPLANE_ENV_FILE: envFile,
          },
        },
        (error, stdout, stderr) => done({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const readEnv = (file: string) =>
    Object.fromEntries(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  it.each(['gateway', 'broker'])(
    'writes the %s its own client to a 0600 file, never prints the secret, and reuses it',
    async (name) => {
      const envFile = join(dir, `${name}.env`);
      const first = await runScript(name, envFile);
      expect(first.status, first.stderr).toBe(0);
      const prefix = `SPL_${name.toUpperCase()}_CLIENT`;
      const values = readEnv(envFile);
      expect(Object.keys(values).sort()).toEqual([`${prefix}_ID`, `${prefix}_SECRET`]);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(`${first.stdout}${first.stderr}`).not.toContain(values[`${prefix}_SECRET`]);
      // The registry accepts it as a data-plane client.
      const token = await registry.token(values[`${prefix}_ID`]!, values[`${prefix}_SECRET`]!);
      expect(token).toBeTruthy();

      const second = await runScript(name, envFile);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).toContain('still accepted');
      expect(readEnv(envFile)).toEqual(values);
    },
  );
});
