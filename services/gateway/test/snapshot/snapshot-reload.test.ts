import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, TEST_REDIS_URL, type TestGateway } from '../helpers/test-gateway.js';

const until = async (check: () => boolean, timeoutMs = 5000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((ok) => setTimeout(ok, 10));
  }
};

describe('snapshots', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
  });
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.close();
    registry.snapshot = null;
  });
  afterAll(async () => {
    await upstream?.stop();
    await registry?.stop();
  });

  const gateway = async (options: Parameters<typeof buildTestGateway>[0]) => {
    const g = await buildTestGateway(options);
    gateways.push(g);
    return g;
  };

  it('is not ready (503 with a JSON reason) until a snapshot is loaded, then ready', async () => {
    const gw = await gateway({ registryUrl: registry.url });
    const before = await gw.app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({
      status: 'not-ready',
      reason: expect.stringContaining('no snapshot'),
    });
    const call = await gw.app.inject({
      method: 'GET',
      url: '/dinkes/faskes/v1/x',
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
    expect(call.statusCode).toBe(503);
    expect(call.json().code).toBe('SPL_NOT_READY');

    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    const after = await gw.app.inject({ method: 'GET', url: '/readyz' });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({
      status: 'ready',
      snapshot: { version: hub.version, source: 'registry' },
      registry: { ok: true },
      redis: { ok: true },
    });
  });

  it('fetches the snapshot with a client-credentials token it keeps until shortly before expiry', async () => {
    registry.snapshot = hub.snapshot();
    const tokensBefore = registry.tokenRequests;
    const gw = await gateway({ registryUrl: registry.url });
    for (let i = 0; i < 3; i++) {
      hub.version++;
      hub.applications = [...hub.applications];
      registry.snapshot = { ...hub.snapshot(), etag: `e-${hub.version}` };
      await gw.runtime.refresh();
    }
    expect(gw.runtime.status().version).toBe(hub.version);
    expect(registry.tokenRequests - tokensBefore).toBe(1);
  });

  it('starts from the stored snapshot when the registry is down, and serves traffic', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'spl-gateway-'));
    try {
      registry.snapshot = hub.snapshot();
      const first = await gateway({ registryUrl: registry.url, dataDir });
      expect(first.runtime.status().isLoaded).toBe(true);
      await first.close();
      gateways.splice(gateways.indexOf(first), 1);

      const downRegistry = 'http://127.0.0.1:9'; // discard port: nothing answers
      const second = await gateway({ registryUrl: downRegistry, dataDir });
      const ready = await second.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ snapshot: { source: 'disk' }, registry: { ok: false } });
      const call = await second.app.inject({
        method: 'GET',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${await hub.token()}` },
      });
      expect(call.statusCode).toBe(200);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('starts offline from SPL_SNAPSHOT_FILE without registry credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spl-gateway-file-'));
    try {
      const file = join(dir, 'snapshot.json');
      await writeFile(file, JSON.stringify(hub.snapshot()));
      const gw = await gateway({
        registryUrl: 'http://127.0.0.1:9',
        env: { SPL_SNAPSHOT_FILE: file, SPL_GATEWAY_CLIENT_ID: '', SPL_GATEWAY_CLIENT_SECRET: '' },
      });
      expect(gw.runtime.status()).toMatchObject({ isLoaded: true, source: 'file' });
      const call = await gw.app.inject({
        method: 'GET',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${await hub.token()}` },
      });
      expect(call.statusCode).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes a new snapshot on the registry’s Redis notice', async () => {
    registry.snapshot = hub.snapshot();
    const gw = await gateway({ registryUrl: registry.url });
    const versionBefore = gw.runtime.status().version!;
    hub.version++;
    hub.route({ api: 'baru', version: 'v1', urls: [upstream.url] });
    registry.snapshot = hub.snapshot();
    const publisher = new Redis(TEST_REDIS_URL);
    try {
      // The subscriber connects asynchronously; announce until it is seen.
      await until(() => {
        void publisher.publish(
          `${gw.prefix}:snapshot:changed`,
          JSON.stringify({ version: hub.version, etag: registry.snapshot!.etag }),
        );
        return gw.runtime.status().version !== versionBefore;
      });
    } finally {
      publisher.disconnect();
    }
    expect(gw.runtime.table()!.routes.has('dinkes/baru/v1')).toBe(true);
  });

  it('reuses the compiled parts of unchanged routes and rebuilds the changed one', async () => {
    for (let i = 0; i < 50; i++) hub.route({ api: `api-${i}`, version: 'v1', urls: [upstream.url] });
    registry.snapshot = hub.snapshot();
    const gw = await gateway({ registryUrl: registry.url });
    const before = gw.runtime.table()!;
    hub.version++;
    const moved = [`${upstream.url}/moved`];
    hub.route({
      ...hub.routes.find((r) => r.api === 'api-7')!,
      urls: moved,
      upstream: { urls: moved, timeoutMs: 2000 },
    });
    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    const after = gw.runtime.table()!;
    expect(after).not.toBe(before);
    expect(after.stats.reusedRoutes).toBe(after.stats.routes - 1);
    expect(after.routes.get('dinkes/api-8/v1')!.targets).toBe(before.routes.get('dinkes/api-8/v1')!.targets);
    expect(after.routes.get('dinkes/api-7/v1')!.targets[0]!.basePath).toBe('/moved');
    // An unchanged identity (keys, applications, issuers) keeps verified tokens.
    expect(after.reuse.tokenCache).toBe(before.reuse.tokenCache);
  });

  it('takes a revoked subscription into account at the next snapshot, even for a cached token', async () => {
    registry.snapshot = hub.snapshot();
    const gw = await gateway({ registryUrl: registry.url });
    const token = await hub.token();
    const call = () =>
      gw.app.inject({
        method: 'GET',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await call()).statusCode).toBe(200);
    const saved = hub.subscriptions;
    hub.subscriptions = saved.filter((s) => !(s.api === 'faskes' && s.applicationId === 'app-portal'));
    hub.version++;
    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    expect((await call()).statusCode).toBe(403);
    hub.subscriptions = saved;
  });

  it('swaps snapshots 20 times under load with zero failed requests', async () => {
    registry.snapshot = hub.snapshot();
    const gw = await gateway({ registryUrl: registry.url });
    const base = await gw.listen();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => hub.token()));
    const client = new Pool(base, { connections: 20 });
    const statuses = new Map<number, number>();
    let sent = 0;
    const worker = async () => {
      while (sent < 500) {
        const i = sent++;
        const res = await client.request({
          method: i % 5 === 0 ? 'POST' : 'GET',
          path: `/dinkes/faskes/v1/item/${i}?n=${i}`,
          headers: {
            authorization: `Bearer ${tokens[i % tokens.length]}`,
            'content-type': 'application/json',
          },
          body: i % 5 === 0 ? JSON.stringify({ i }) : null,
        });
        await res.body.text();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }
    };
    const swapper = async () => {
      for (let s = 0; s < 20; s++) {
        hub.version++;
        // Each swap changes something real: a new route, and a subscription for another app.
        hub.route({ api: `swap-${s}`, version: 'v1', urls: [upstream.url] });
        hub.subscribe('app-dashboard', `swap-${s}`, 'v1');
        registry.snapshot = hub.snapshot();
        await gw.runtime.refresh();
        await new Promise((ok) => setTimeout(ok, 5));
      }
    };
    try {
      await Promise.all([...Array.from({ length: 20 }, worker), swapper()]);
    } finally {
      await client.close();
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 500 });
    expect(gw.runtime.status().version).toBe(hub.version);
  });
});
