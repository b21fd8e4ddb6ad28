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
