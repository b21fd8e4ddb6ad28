import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';
import { type AccessFixture, as, buildOwaspHub } from './hub.js';

/**
 * OWASP API9:2023 Improper Inventory Management: endpoints nobody documented (debug, old
 * versions, admin leftovers) that answer anyway, and old API versions still served without
 * telling their callers.
 *
 * Refused by: BBU Lampiran II.G (the metadata repository and service directory: what is
 * served is what is registered), BKS 59(15) (no leaky URIs), BKS 59(2) (testing: the
 * inventory is checked on every run). The registry's OpenAPI document is generated from the
 * routes' own schemas, so a route cannot be served undocumented; the gateway serves only
 * `published` and `deprecated` versions from the snapshot, and marks deprecated ones with
 * `Deprecation` (RFC 9745) and `Sunset` (RFC 8594).
 */
describe('API9 inventory of the registry', () => {
  let fx: AccessFixture;
  let doc: { openapi: string; paths: Record<string, Record<string, unknown>> };
  beforeAll(async () => {
    fx = await buildOwaspHub();
    doc = (await as(fx, 'anonymous', { method: 'GET', url: '/docs/json' })).json();
  });
  afterAll(async () => fx?.close());

  it('documents every route it serves in /docs/json, with its method', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const undocumented = fx.r.app.routeAccess
      .filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'))
      .map((r) => ({ method: r.method.toLowerCase(), path: r.url.replace(/:(\w+)/g, '{$1}') }))
      .filter((r) => !doc.paths[r.path]?.[r.method])
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(undocumented).toEqual([]);
  });

  it('serves nothing its document does not list: old versions, debug and admin leftovers answer 404', async () => {
    for (const url of [
      '/v0/apis',
      '/v2/apis',
      '/api/v1/apis',
      '/admin',
      '/debug',
      '/debug/pprof',
      '/.env',
      '/actuator/health',
      '/graphql',
      '/v1/internal/snapshot',
    ]) {
      const res = await as(fx, 'bootstrap', { method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('lists in the document no route that does not answer', async () => {
    const served = new Set(
      fx.r.app.routeAccess.map((r) => `${r.method.toLowerCase()} ${r.url.replace(/:(\w+)/g, '{$1}')}`),
    );
    const ghosts: string[] = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const method of Object.keys(item).filter((m) =>
        ['get', 'post', 'put', 'patch', 'delete'].includes(m),
      ))
        if (!served.has(`${method} ${path}`)) ghosts.push(`${method} ${path}`);
    expect(ghosts).toEqual([]);
  });
});

describe('API9 inventory at the gateway', () => {
  let g: OwaspGateway;
  let token: string;
  beforeAll(async () => {
    g = await buildOwaspGateway({
      configure: (hub) => {
        // An approved subscription to a version the snapshot does not route (retired, or
        // still at its gates: the registry compiles only published and deprecated ones,
        // test/owasp/api6-sensitive-business-flows.test.ts).
        hub.subscribe('app-portal', 'faskes', 'v0');
      },
    });
    token = await g.hub.token();
  });
  afterAll(async () => g?.close());

  const get = (url: string) =>
    g.gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('marks every answer of a deprecated version with Deprecation and Sunset', async () => {
    const res = await get('/dinkes/faskes/v2/x');
    expect(res.statusCode).toBe(200);
    expect(res.headers.deprecation).toBeDefined();
    expect(new Date(String(res.headers.sunset)).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    const current = await get('/dinkes/faskes/v1/x');
    expect(current.headers.deprecation).toBeUndefined();
  });

  it('serves no version the snapshot does not route, even with an approved subscription', async () => {
    const seen = g.upstream.seen.length;
    expect((await get('/dinkes/faskes/v0/x')).statusCode).toBe(404);
    expect((await get('/dinkes/faskes/v9/x')).statusCode).toBe(404);
    expect((await get('/dinkes/no-such-api/v1/x')).statusCode).toBe(404);
    expect(g.upstream.seen.length).toBe(seen);
  });

  // The proxied surface (/{org}/{api}/{version}/…) is documented per API version in the
  // registry's catalogue (GET /v1/apis/{org}/{api}/versions/{version}/openapi), not here.
  it('documents its own surface in /docs/json as OpenAPI 3.1', async () => {
    const res = await g.gw.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    expect(res.json().openapi).toMatch(/^3\.1\./);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(paths).toContain(path);
  });
});
