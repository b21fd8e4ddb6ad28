import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('the gateway’s own surface', () => {
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

  it('answers /healthz', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document of the admin surface only', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/oauth2/token', '/oauth2/jwks']),
    );
    expect(Object.keys(doc.paths)).not.toContain('/*');
    const html = await gw.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(html.statusCode);
  });

  it('serves Prometheus metrics', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('spl_gateway_http_requests_total');
  });

  it('answers an unsupported method on its own routes with problem+json', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/healthz' });
    // Anything not an own route is the request path, which asks for a token first.
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers a malformed content type with problem+json', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': '/;;' },
      payload: 'x',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
