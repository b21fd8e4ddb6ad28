import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture, MASTER_KEY } from '../helpers/hub-fixture.js';
import { TEST_REDIS_URL } from '../helpers/test-gateway.js';
import { TestPki } from '../helpers/test-pki.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const serverTs = join(root, 'services/gateway/src/server.ts');

interface Started {
  child: ChildProcess;
  /** The address Fastify logged, once listening. */
  url: Promise<string>;
  /** Exit code and everything written to stderr, once it exits. */
  exit: Promise<{ code: number | null; stderr: string }>;
}

/** Runs services/gateway/src/server.ts as `pnpm start` does, with only `env` (and PATH). */
function startGateway(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [tsx, serverTs], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const url = new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /Server listening at (https?:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) ok(match[1]!);
    });
    child.on('exit', () => fail(new Error(`the gateway exited before listening:\n${stderr}`)));
  });
  url.catch(() => {});
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((ok) =>
    child.on('exit', (code) => ok({ code, stderr })),
  );
  return { child, url, exit };
}

async function stopGateway(started: Started): Promise<void> {
  if (started.child.exitCode === null) started.child.kill('SIGTERM');
  await started.exit;
}

/**
 * `SPL_MODE=production` refuses plain HTTP unless a TLS proxy is declared in front
 * (BKS 60(3)(a)); with its own certificate the gateway serves HTTPS. Each run is offline
 * from a snapshot file, with its own data folder and Redis prefix.
 */
describe('starting the gateway in production', () => {
  let pki: TestPki;
  let dir: string;
  let redis: Redis;
  const prefixes: string[] = [];
  let snapshotFile: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    dir = await mkdtemp(join(tmpdir(), 'spl-gateway-start-'));
    const hub = await HubFixture.create();
    snapshotFile = join(dir, 'snapshot.json');
    await writeFile(snapshotFile, JSON.stringify(hub.snapshot()));
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis?.disconnect();
    await rm(dir, { recursive: true, force: true });
    await pki?.remove();
  });

  const productionEnv = (name: string, extra: Record<string, string> = {}) => {
    const prefix = `test-${randomBytes(5).toString('hex')}`;
    prefixes.push(prefix);
    return {
      SPL_MODE: 'production',
      SPL_HOST: '127.0.0.1',
      SPL_GATEWAY_PORT: '0',
      SPL_PUBLIC_URL: 'https://hub.example.go.id',
      SPL_MASTER_KEY: MASTER_KEY.toString('base64'),
      SPL_SNAPSHOT_FILE: snapshotFile,
      SPL_DATA_DIR: join(dir, name),
      REDIS_URL: TEST_REDIS_URL,
      SPL_REDIS_PREFIX: prefix,
      SPL_LOG_LEVEL: 'info',
      ...extra,
    };
  };

  it('refuses to start on plain HTTP, naming the variables that would fix it', async () => {
    const started = startGateway(productionEnv('plain'));
    const { code, stderr } = await started.exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(/refusing to start in production/);
    expect(stderr).toMatch(/SPL_TLS_CERT_FILE and SPL_TLS_KEY_FILE/);
    expect(stderr).toMatch(/SPL_BEHIND_TLS_PROXY=true/);
  });

  it('starts on plain HTTP when SPL_BEHIND_TLS_PROXY=true declares a TLS proxy in front', async () => {
    const started = startGateway(productionEnv('proxied', { SPL_BEHIND_TLS_PROXY: 'true' }));
    try {
      const url = await started.url;
      expect(url).toMatch(/^http:\/\//);
      const res = await request(`${url}/readyz`);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await stopGateway(started);
    }
  });

  it('starts on HTTPS with its own certificate, no proxy needed', async () => {
    const started = startGateway(
      productionEnv('tls', {
        SPL_TLS_CERT_FILE: pki.server.certFile,
        SPL_TLS_KEY_FILE: pki.server.keyFile,
      }),
    );
    const agent = new Agent({ connect: { ca: pki.ca.cert } });
    try {
      const url = await started.url;
      expect(url).toMatch(/^https:\/\//);
      const res = await request(`${url}/readyz`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await agent.close();
      await stopGateway(started);
    }
  });

  it('stops with the variable named when the key does not belong to the certificate', async () => {
    const started = startGateway(
      productionEnv('mismatch', {
        SPL_TLS_CERT_FILE: pki.server.certFile,
        SPL_TLS_KEY_FILE: pki.ca.keyFile,
      }),
    );
    const { code, stderr } = await started.exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(/invalid configuration: SPL_TLS_KEY_FILE does not belong to the certificate/);
  });
});
