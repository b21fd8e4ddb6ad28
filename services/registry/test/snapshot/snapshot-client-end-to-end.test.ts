import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSnapshotClient, type Snapshot, type SnapshotClient } from '@spl/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

/** A data plane's view: the @spl/snapshot client against a listening registry and the real Redis. */
describe('snapshot client against the registry', () => {
  let r: TestRegistry;
  let url: string;
  let dataDir: string;
  let credentials: { clientId: string; clientSecret: string };
  const clients: SnapshotClient[] = [];

  const startClient = async (seen: Snapshot[]) => {
    const client = createSnapshotClient({
      registryUrl: url,
      getToken: async () => r.token(credentials.clientId, credentials.clientSecret),
      redis: r.redis,
      channel: r.ctx.keys.snapshotChannel,
      dataDir,
      pollIntervalMs: 0,
      onSnapshot: (snapshot) => {
        seen.push(snapshot);
      },
    });
    clients.push(client);
    await client.start();
    return client;
  };

  beforeAll(async () => {
    r = await buildTestRegistry();
    url = await r.app.listen({ port: 0, host: '127.0.0.1' });
    dataDir = await mkdtemp(join(tmpdir(), 'spl-dataplane-'));
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(await r.operatorToken()),
      payload: { name: 'gateway-e2e' },
    });
    credentials = res.json();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await r?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes the snapshot, follows a change announced on Redis, and restarts from disk', async () => {
    const seen: Snapshot[] = [];
    const client = await startClient(seen);
    expect(client.status()).toMatchObject({ isLoaded: true, source: 'registry' });

    await r.organisation('dinas-baru');
    const until = Date.now() + 5000;
    while (!seen.at(-1)?.organisations.some((o) => o.slug === 'dinas-baru') && Date.now() < until)
      await new Promise((ok) => setTimeout(ok, 20));
    expect(seen.at(-1)?.organisations.map((o) => o.slug)).toContain('dinas-baru');
    const latest = client.current()!;
    await client.close();

    // The registry goes away: a new data-plane process starts from the kept snapshot.
    const restarted: Snapshot[] = [];
    const offline = createSnapshotClient({
      registryUrl: 'http://127.0.0.1:1',
      getToken: async () => 'unused',
      channel: r.ctx.keys.snapshotChannel,
      dataDir,
      pollIntervalMs: 0,
      requestTimeoutMs: 500,
      onSnapshot: (snapshot) => {
        restarted.push(snapshot);
      },
    });
    clients.push(offline);
    await offline.start();
    expect(offline.status()).toMatchObject({ isLoaded: true, source: 'disk', etag: latest.etag });
    expect(restarted[0]?.version).toBe(latest.version);
  });
});
