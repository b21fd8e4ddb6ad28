import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('the OAuth2 paths through the gateway', () => {
  let registry: FakeRegistry;
  let gw: TestGateway;

  beforeAll(async () => {
    const hub = await HubFixture.create();
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url });
  });
  afterAll(async () => {
    await gw?.close();
    await registry?.stop();
  });

  it('forwards the metadata document unchanged', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      issuer: 'http://gateway.test',
      token_endpoint: 'http://gateway.test/oauth2/token',
    });
  });

  it('forwards the JWKS', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/oauth2/jwks' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/jwk-set+json');
    expect(res.json().keys).toHaveLength(1);
  });

  it('forwards a token request with its form body and answers with the registry’s body and headers', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&client_id=portal-client&client_secret=portal-secret',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({ access_token: 'consumer-token', token_type: 'Bearer' });
    const seen = registry.oauthSeen.at(-1)!;
    expect(seen.body).toBe(
      'grant_type=client_credentials&client_id=portal-client&client_secret=portal-secret',
    );
    expect(seen.headers['x-forwarded-for']).toBeTruthy();
  });

  it('passes an RFC 6749 error through as it is (the one exception to problem+json)', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic d3Jvbmc6d3Jvbmc=',
      },
      payload: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_client' });
    expect(res.headers['www-authenticate']).toBe('Basic realm="spl"');
  });

  it('answers 503 problem+json when the registry is down', async () => {
    const down = await buildTestGateway({ registryUrl: 'http://127.0.0.1:9' });
    try {
      const res = await down.app.inject({ method: 'GET', url: '/oauth2/jwks' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('SPL_REGISTRY_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });
});
