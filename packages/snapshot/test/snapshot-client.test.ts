import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSnapshotClient, SNAPSHOT_FILE, type Snapshot, type SnapshotClient } from '../src/index.js';

const REDIS_URL = process.env.SPL_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function makeSnapshot(version: number, orgs: string[] = ['dinkes']): Snapshot {
  const content = { orgs };
  return {
    format: 1,
    version,
    etag: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
    generatedAt: new Date().toISOString(),
    issuer: 'http://hub.test',
    audience: 'spl',
    hubKeys: { keys: [{ kty: 'EC', kid: 'k1', alg: 'ES256', use: 'sig', crv: 'P-256', x: 'x', y: 'y' }] },
    trustedIssuers: [],
    organisations: orgs.map((slug) => ({ slug, kind: 'perangkat-daerah' })),
    applications: [],
    routes: [],
    openapi: {},
    subscriptions: [],
  };
}

/** A stand-in registry: serves `document` at GET /v1/snapshot with ETag / If-None-Match. */
class FakeRegistry {
  server!: Server;
  url = '';
  document: unknown = makeSnapshot(1);
  status = 200;
  requests: IncomingMessage[] = [];
  acceptedToken = 'token-1';

  async start() {
    this.server = createServer((req, res) => {
      this.requests.push(req);
      if (req.url !== '/v1/snapshot') return res.writeHead(404).end();
      if (req.headers.authorization !== `Bearer ${this.acceptedToken}`) return res.writeHead(401).end();
      if (this.status !== 200) return res.writeHead(this.status).end();
      const etag = `"${(this.document as { etag?: string }).etag}"`;
      if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
      res.writeHead(200, { etag, 'content-type': 'application/json' }).end(JSON.stringify(this.document));
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}

const until = async (check: () => boolean, timeoutMs = 3000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((ok) => setTimeout(ok, 10));
  }
};

describe('snapshot client', () => {
  let registry: FakeRegistry;
  let dataDir: string;
  let redis: Redis;
  let channel: string;
  let clients: SnapshotClient[];
  let received: { version: number; source: string }[];
  let errors: Error[];

  const client = (options: { pollIntervalMs?: number; withRedis?: boolean; url?: string } = {}) => {
    const c = createSnapshotClient({
      registryUrl: options.url ?? registry.url,
      getToken: async () => registry.acceptedToken,
      ...(options.withRedis ? { redis } : {}),
      channel,
      dataDir,
      pollIntervalMs: options.pollIntervalMs ?? 0,
      requestTimeoutMs: 2000,
      onSnapshot: (snapshot, info) => {
        received.push({ version: snapshot.version, source: info.source });
      },
      onError: (err) => errors.push(err),
    });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    registry = new FakeRegistry();
    await registry.start();
    dataDir = await mkdtemp(join(tmpdir(), 'spl-snapshot-'));
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    channel = `test-${randomBytes(5).toString('hex')}:snapshot:changed`;
    clients = [];
    received = [];
    errors = [];
  });
  afterEach(async () => {
    for (const c of clients) await c.close();
    await registry.stop();
    redis.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes the snapshot, keeps it on disk with mode 0600, and asks again with If-None-Match', async () => {
    const c = client();
    await c.start();
    expect(received).toEqual([{ version: 1, source: 'registry' }]);
    expect(c.status()).toMatchObject({ isLoaded: true, source: 'registry', version: 1, lastError: null });
    const file = join(dataDir, SNAPSHOT_FILE);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(registry.document);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    expect(await c.refresh()).toBe('unchanged');
    expect(registry.requests.at(-1)?.headers['if-none-match']).toBe(`"${c.current()?.etag}"`);
    expect(received).toHaveLength(1);
  });

  it('fetches the new snapshot when the registry announces it on Redis', async () => {
    const c = client({ withRedis: true });
    await c.start();
    registry.document = makeSnapshot(7, ['dinkes', 'dinsos']);
    await redis.publish(channel, JSON.stringify({ version: 7, etag: (registry.document as Snapshot).etag }));
    await until(() => received.length === 2);
    expect(received[1]).toEqual({ version: 7, source: 'registry' });
    expect(c.current()?.organisations.map((o) => o.slug)).toEqual(['dinkes', 'dinsos']);
  });

  it('ignores a notice for the snapshot it already has', async () => {
    const c = client({ withRedis: true });
    await c.start();
    const before = registry.requests.length;
    await redis.publish(channel, JSON.stringify({ version: 1, etag: c.current()!.etag }));
    await new Promise((ok) => setTimeout(ok, 200));
    expect(registry.requests.length).toBe(before);
  });

  it('polls as a fallback when there is no Redis', async () => {
    const c = client({ pollIntervalMs: 50 });
    await c.start();
    registry.document = makeSnapshot(2, ['dinkes', 'bappeda']);
    await until(() => received.length === 2);
    expect(c.status().version).toBe(2);
  });

  it('starts from the snapshot on disk when the registry is down, and reports why', async () => {
    const first = client();
    await first.start();
    await first.close();
    await registry.stop();

    received = [];
    const second = client();
    await second.start();
    expect(received).toEqual([{ version: 1, source: 'disk' }]);
    expect(second.status()).toMatchObject({ isLoaded: true, source: 'disk', version: 1 });
    expect(second.status().lastError).toBeTruthy();
    expect(errors.length).toBeGreaterThan(0);
    await registry.start(); // afterEach stops it again
  });

  it('is not ready without a registry and without a snapshot on disk', async () => {
    const c = client({ url: 'http://127.0.0.1:1' });
    await c.start();
    expect(c.status()).toMatchObject({ isLoaded: false, source: null });
    expect(received).toEqual([]);
  });

  it('refuses a document that does not match the schema and keeps the last good one', async () => {
    const c = client();
    await c.start();
    const good = await readFile(join(dataDir, SNAPSHOT_FILE), 'utf8');
    registry.document = { ...makeSnapshot(3, ['other']), routes: [{ org: 'x' }] };
    await expect(c.refresh()).rejects.toThrow(/routes/);
    expect(c.status().version).toBe(1);
    expect(await readFile(join(dataDir, SNAPSHOT_FILE), 'utf8')).toBe(good);
  });

  it('skips a corrupt file on disk and reports it', async () => {
    await writeFile(join(dataDir, SNAPSHOT_FILE), '{"format": 1, "half":', { mode: 0o600 });
    await registry.stop();
    const c = client();
    await c.start();
    expect(c.status().isLoaded).toBe(false);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/was not loaded/);
    await registry.start();
  });

  it('does not go back to an older version served by a lagging registry instance', async () => {
    registry.document = makeSnapshot(10, ['a']);
    const c = client();
    await c.start();
    registry.document = makeSnapshot(9, ['b']);
    expect(await c.refresh()).toBe('unchanged');
    expect(c.status().version).toBe(10);
  });

  it('asks for a fresh token once after a 401', async () => {
    let calls: boolean[] = [];
    const c = createSnapshotClient({
      registryUrl: registry.url,
      getToken: async ({ forceRefresh }) => {
        calls.push(forceRefresh);
        return forceRefresh ? registry.acceptedToken : 'expired-token';
      },
      channel,
      dataDir,
      pollIntervalMs: 0,
      onSnapshot: () => {},
    });
    clients.push(c);
    await c.start();
    expect(calls).toEqual([false, true]);
    expect(c.status().isLoaded).toBe(true);
    calls = [];
  });

  it('does not keep a snapshot the data plane refused', async () => {
    const c = createSnapshotClient({
      registryUrl: registry.url,
      getToken: async () => registry.acceptedToken,
      channel,
      dataDir,
      pollIntervalMs: 0,
      onSnapshot: () => {
        throw new Error('route table did not build');
      },
      onError: (err) => errors.push(err),
    });
    clients.push(c);
    await c.start();
    expect(c.status().isLoaded).toBe(false);
    await expect(stat(join(dataDir, SNAPSHOT_FILE))).rejects.toThrow();
  });

  it('checks its options when created', () => {
    expect(() =>
      createSnapshotClient({
        registryUrl: 'registry:8081',
        getToken: async () => '',
        channel,
        dataDir,
        onSnapshot: () => {},
      }),
    ).toThrow(/registryUrl/);
  });
});
