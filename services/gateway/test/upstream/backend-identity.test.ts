import { createSecretBox } from '@spl/secret-box';
import {
  BACKEND_IDENTITY_INFO,
  BACKEND_IDENTITY_TYPE,
  deriveBackendIdentityKey,
  signBackendIdentity,
} from '@spl/token';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller.js';
import type { CompiledRoute } from '../../src/routing/route-table.js';
import { createBackendIdentity } from '../../src/upstream/backend-identity.js';
import { HubFixture, MASTER_KEY, TEST_ISSUER } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** The key an upstream verifies with: the registry publishes the same one in its JWKS. */
async function publishedKey() {
  const { publicJwk } = await deriveBackendIdentityKey(
    createSecretBox(MASTER_KEY).deriveKey(BACKEND_IDENTITY_INFO),
  );
  return { publicJwk, key: await importJWK(publicJwk, 'EdDSA') };
}

describe('identity to the upstream (issue 3 §5)', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
    hub.route({ api: 'faskes', version: 'v2', urls: [upstream.url] });
    hub.subscribe('app-portal', 'faskes', 'v1');
    hub.subscribe('app-portal', 'faskes', 'v2');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url });
    token = await hub.token();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

  it('sends X-SPL-Identity, verifiable with the published key, naming the application and the upstream', async () => {
    upstream.seen.length = 0;
    const res = await get('/dinkes/faskes/v1/x');
    expect(res.statusCode).toBe(200);
    const identity = upstream.seen[0]!.headers['x-spl-identity'];
    expect(typeof identity).toBe('string');
    const { publicJwk, key } = await publishedKey();
    expect(decodeProtectedHeader(identity as string)).toMatchObject({
      alg: 'EdDSA',
      kid: publicJwk.kid,
      typ: BACKEND_IDENTITY_TYPE,
    });
    const { payload } = await jwtVerify(identity as string, key, {
      issuer: TEST_ISSUER,
      audience: 'dinkes/faskes/v1',
      typ: BACKEND_IDENTITY_TYPE,
    });
    expect(payload).toMatchObject({ sub: 'app-portal', spl_org: 'disdukcapil', client_id: 'portal-client' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(typeof payload.jti).toBe('string');
  });

  it('reuses the cached token across requests, and signs another for another API version', async () => {
    upstream.seen.length = 0;
    await get('/dinkes/faskes/v1/a');
    await get('/dinkes/faskes/v1/b');
    await get('/dinkes/faskes/v2/c');
    const [a, b, c] = upstream.seen.map((s) => s.headers['x-spl-identity']);
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const { key } = await publishedKey();
    const { payload } = await jwtVerify(c as string, key, { audience: 'dinkes/faskes/v2' });
    expect(payload.sub).toBe('app-portal');
  });

  it("never passes on the consumer's bearer token, nor a consumer-forged identity", async () => {
    upstream.seen.length = 0;
    const forged = await signBackendIdentity(await deriveBackendIdentityKey(Buffer.alloc(32, 1)), {
      issuer: TEST_ISSUER,
      audience: 'dinkes/faskes/v1',
      application: { id: 'app-dashboard', org: 'bappeda', clientId: 'dashboard-client' },
    });
    const res = await get('/dinkes/faskes/v1/x', { 'x-spl-identity': forged.token });
    expect(res.statusCode).toBe(200);
    const seen = upstream.seen[0]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(token);
    expect(seen.headers['x-spl-identity']).not.toBe(forged.token);
    const { key } = await publishedKey();
    const { payload } = await jwtVerify(seen.headers['x-spl-identity'] as string, key);
    expect(payload.sub).toBe('app-portal');
  });

  it('sends no identity when the gateway has no master key', async () => {
    const bare = await buildTestGateway({ registryUrl: registry.url, deps: { secretBox: null } });
    try {
      upstream.seen.length = 0;
      const res = await bare.app.inject({
        method: 'GET',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(200);
      expect(upstream.seen[0]!.headers['x-spl-identity']).toBeUndefined();
      expect(upstream.seen[0]!.headers.authorization).toBeUndefined();
    } finally {
      await bare.close();
    }
  });
});

describe('the identity cache', () => {
  const caller: Caller = {
    applicationId: 'app-1',
    org: 'disdukcapil',
    clientId: 'c1',
    issuer: TEST_ISSUER,
    expiresAt: 0,
  };
  const route = { id: 'r1', key: 'dinkes/faskes/v1' } as CompiledRoute;

  it('signs again 10 s before expiry, not sooner', async () => {
    let now = 1_700_000_000_000;
    const identity = createBackendIdentity({
      key: await deriveBackendIdentityKey(Buffer.alloc(32, 3)),
      issuer: TEST_ISSUER,
      now: () => now,
    });
    const first = await identity.token('app-1', caller, route);
    now += 49_000;
    expect(identity.token('app-1', caller, route)).toBe(first);
    now += 1_000;
    const renewed = await identity.token('app-1', caller, route);
    expect(renewed).not.toBe(first);
  });
});
