import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture, MASTER_KEY, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/hub-fixture.js';
import { TestUpstream } from '../helpers/servers.js';
import { TEST_REDIS_URL } from '../helpers/test-gateway.js';

const here = dirname(fileURLToPath(import.meta.url));
const serverTs = resolve(here, '../../src/server.ts');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

/** SPL_GATEWAY_WORKERS=2: one port, two whole gateways, one /metrics for both, a clean stop. */
describe('gateway workers (node:cluster)', () => {
  let work: string;
  let upstream: TestUpstream;
  let gateway: ChildProcess;
  let base: string;
  let token: string;
  let exited: Promise<number | null>;
  let stderr = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'spl-gw-workers-'));
    upstream = await new TestUpstream().start();
    const hub = await HubFixture.create();
    hub.openapi = {
      h1: {
        openapi: '3.1.0',
        info: { title: 'Kependudukan', version: 'v1' },
        paths: { '/penduduk': { get: { responses: { '200': { description: 'ok' } } } } },
      },
    };
    hub.route({ api: 'kependudukan', version: 'v1', urls: [upstream.url], methods: ['GET'] });
    hub.subscribe('app-portal', 'kependudukan', 'v1');
    const snapshotFile = join(work, 'snapshot.json');
    writeFileSync(snapshotFile, JSON.stringify(hub.snapshot()));
    token = await hub.token('portal-client');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, ['--import', 'tsx', serverTs], {
      env: {
        ...process.env,
        SPL_MODE: 'development',
        SPL_GATEWAY_PORT: String(port),
        SPL_GATEWAY_WORKERS: '2',
        SPL_PUBLIC_URL: TEST_ISSUER,
        SPL_TOKEN_AUDIENCE: TEST_AUDIENCE,
        SPL_SNAPSHOT_FILE: snapshotFile,
        SPL_SNAPSHOT_POLL_SECONDS: '0',
        SPL_DATA_DIR: join(work, 'data'),
        SPL_MASTER_KEY: MASTER_KEY.toString('base64'),
        SPL_EGRESS_ALLOW: '127.0.0.1',
        SPL_LOG_LEVEL: 'warn',
        REDIS_URL: TEST_REDIS_URL,
        SPL_REDIS_PREFIX: `workers-${randomBytes(4).toString('hex')}`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    gateway.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    exited = new Promise((ok) => gateway.once('exit', (code) => ok(code)));
    // Both workers listen when two evidence chains exist and the port answers ready.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${base}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      let chains = 0;
      try {
        chains = readdirSync(join(work, 'data', 'gateway', 'evidence')).length;
      } catch {}
      if (ready && chains === 2) break;
      if (Date.now() > deadline) throw new Error(`workers did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
    await upstream?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves calls on one port from two worker processes, each with its own evidence chain', async () => {
    // Fresh connections are handed to the workers in turn.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${base}/dinkes/kependudukan/v1/penduduk`, {
          headers: { authorization: `Bearer ${token}`, connection: 'close' },
        }).then(async (r) => `${r.status} ${r.status === 200 ? '' : await r.text()}`.trim()),
      ),
    );
    expect(answers).toEqual(Array(20).fill('200'));
    expect(readdirSync(join(work, 'data', 'gateway', 'evidence'))).toHaveLength(2);
  });

  it('answers /metrics for every worker: the calls of both are counted once', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('spl_gateway_requests_total{') && l.includes('status="200"'));
    expect(line, text.slice(0, 2000)).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBe(20);
    // Gauges are not summed across workers: the snapshot version is the oldest worker's,
    // 1 once both have loaded the file (never 2).
    const deadline = Date.now() + 10_000;
    let version = Number.NaN;
    while (Date.now() < deadline) {
      const all = await (await fetch(`${base}/metrics`)).text();
      const line = all.split('\n').find((l) => l.startsWith('spl_gateway_snapshot_version'));
      version = Number(line?.split(' ').at(-1));
      if (version === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(version).toBe(1);
  });

  it('stops every worker and exits 0 on SIGTERM', async () => {
    gateway.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
