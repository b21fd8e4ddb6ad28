import { generateSigningKey, importSigningKey } from '@spl/token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 *   snapshot v1: hub key K1 ──► the gateway loads it
 *   the registry rotates to K2 (snapshot v2); its Redis notice is lost and nobody polls
 *   a stranger signs with K3, a key no snapshot ever holds
 *   dinkes/faskes/v1 → upstream; portal subscribed; cool-down 1 s
 */
describe('a hub token with an unknown kid', () => {
  let hub: HubFixture;
  let stranger: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    stranger = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url, env: { SPL_HUB_KEY_REFRESH_SECONDS: '1' } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });

  const get = (token: string) =>
    gw.app.inject({
      method: 'GET',
      url: '/dinkes/faskes/v1/x',
      headers: { authorization: `Bearer ${token}` },
    });

  it('is accepted after one refresh of the snapshot when the registry rotated its keys', async () => {
    expect((await get(await hub.token())).statusCode).toBe(200);
    hub.key = await generateSigningKey();
    hub.signing = await importSigningKey(hub.key.privateJwkJson);
    hub.version++;
    registry.snapshot = hub.snapshot(); // no notice reaches the gateway
    const before = registry.snapshotRequests;

    // Five callers with fresh tokens at once share the one refresh.
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => hub.token()));
    const answers = await Promise.all(tokens.map(get));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(registry.snapshotRequests - before).toBe(1);
    expect(gw.runtime.status().version).toBe(hub.version);
  });

  it('is refused with 401 when the refreshed snapshot does not know the kid either', async () => {
    await sleep(1100); // past the cool-down of the refresh above
    const before = registry.snapshotRequests;
    const res = await get(await stranger.token());
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('invalid_token');
    expect(registry.snapshotRequests - before).toBe(1);
  });

  it('asks the registry at most once per cool-down, however many such tokens arrive', async () => {
    const before = registry.snapshotRequests;
    for (let i = 0; i < 5; i++) expect((await get(await stranger.token())).statusCode).toBe(401);
    expect(registry.snapshotRequests - before).toBe(0);
    await sleep(1100);
    expect((await get(await stranger.token())).statusCode).toBe(401);
    expect(registry.snapshotRequests - before).toBe(1);
  });
});
