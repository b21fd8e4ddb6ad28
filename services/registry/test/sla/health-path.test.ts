import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, createVersion, versionBody } from '../apis/fixtures.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

describe("a version's health path", () => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_PROBE_SECONDS: '0' } });
    await r.organisation('dpmptsp');
    await createApi(r, 'dpmptsp', 'perizinan');
  }, 60_000);
  afterAll(async () => r?.close());

  it('is declared with the upstream, shown by the version API and exported', async () => {
    const upstream = { urls: ['https://perizinan.contoh.go.id/api'], timeoutMs: 5000, healthPath: '/health' };
    const created = await createVersion(r, 'dpmptsp', 'perizinan', 'v1', { upstream });
    expect(created.upstream).toEqual(upstream);
    const token = await r.operatorToken();
    const shown = await r.app.inject({
      method: 'GET',
      url: '/v1/apis/dpmptsp/perizinan/versions/v1',
      headers: bearer(token),
    });
    expect(shown.json().upstream).toEqual(upstream);
    const exported = await r.app.inject({ method: 'GET', url: '/v1/export', headers: bearer(token) });
    expect(exported.body).toContain('"healthPath":"/health"');
  });

  it('is a path: anything else is refused', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/apis/dpmptsp/perizinan/versions',
      headers: bearer(await r.operatorToken()),
      payload: versionBody('v2', {
        upstream: { urls: ['https://perizinan.contoh.go.id/api'], healthPath: 'http://elsewhere/' },
      }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('SPL_VALIDATION');
  });
});
