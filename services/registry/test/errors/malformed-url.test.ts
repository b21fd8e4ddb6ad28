import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

// Found by the hostile-input fuzz (test/hostile/registry-fuzz.test.ts): the router's own
// refusals were plain Fastify JSON, not problem+json, and echoed the URL.
describe('a URL the router refuses', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await buildTestRegistry();
  });
  afterAll(async () => registry?.close());

  it.each([
    ['malformed percent-encoding', '/v1/organisations/%zz'],
    ['an overlong UTF-8 sequence', '/v1/organisations/%c0%af'],
    ['a path parameter over the router limit', `/v1/organisations/${'a'.repeat(200)}`],
  ])('with %s is answered 400 problem+json without the URL', async (_, url) => {
    const res = await registry.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code: 'SPL_VALIDATION' });
    expect(res.body).not.toContain(url.slice(18, 40));
  });
});

// Found by the same fuzz: a NUL byte (or a malformed id) reached PostgreSQL as text and the
// query's error became a 500.
describe('a value the store cannot hold', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await buildTestRegistry();
  });
  afterAll(async () => registry?.close());

  it.each([
    ['a NUL byte in a path parameter', 'GET', '/v1/apis/dinkes/%00'],
    ['a NUL byte in a trusted issuer', 'DELETE', '/v1/trusted-issuers/%00'],
  ])('such as %s is answered 400 problem+json, not 500', async (_, method, url) => {
    const res = await registry.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${await registry.operatorToken()}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'SPL_VALIDATION' });
  });

  it('in a JSON body is refused without writing anything', async () => {
    const res = await registry.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { authorization: `Bearer ${await registry.operatorToken()}` },
      payload: { slug: 'nul-org', name: 'Nul\u0000org', kind: 'perangkat-daerah' },
    });
    expect(res.statusCode).toBe(400);
    const rows = await registry.db.query("SELECT 1 FROM organisations WHERE slug = 'nul-org'");
    expect(rows).toEqual([]);
  });
});
