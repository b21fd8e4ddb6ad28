import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

describe('organisations and bad input', () => {
  let r: TestRegistry;
  let token: string;
  const orgCount = async () =>
    (await r.db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations'))[0]!.n;

  beforeAll(async () => {
    r = await buildTestRegistry();
    token = await r.operatorToken();
  });
  afterAll(async () => r?.close());

  it('registers an organisation and shows it', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: bearer(token),
      payload: {
        slug: 'disdukcapil',
        name: 'Dinas Kependudukan dan Pencatatan Sipil',
        kind: 'perangkat-daerah',
        contacts: [{ name: 'Helpdesk', email: 'helpdesk@disdukcapil.go.id' }],
      },
    });
    expect(res.statusCode).toBe(201);
    const shown = await r.app.inject({ url: '/v1/organisations/disdukcapil', headers: bearer(token) });
    expect(shown.json()).toMatchObject({ slug: 'disdukcapil', kind: 'perangkat-daerah' });
  });

  it.each([
    [
      'an unknown field',
      { slug: 'dinsos', name: 'Dinas Sosial', kind: 'perangkat-daerah', owner: 'x' },
      'SPL_VALIDATION',
    ],
    ['a reserved slug', { slug: 'oauth2', name: 'x', kind: 'perangkat-daerah' }, 'SPL_VALIDATION'],
    ['an uppercase slug', { slug: 'Dinsos', name: 'x', kind: 'perangkat-daerah' }, 'SPL_VALIDATION'],
    ['an unknown kind', { slug: 'dinsos', name: 'x', kind: 'ministry' }, 'SPL_VALIDATION'],
    ['a missing name', { slug: 'dinsos', kind: 'perangkat-daerah' }, 'SPL_VALIDATION'],
  ])('refuses %s with problem+json and stores nothing', async (_what, payload, code) => {
    const before = await orgCount();
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: bearer(token),
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code });
    expect(res.json().errors.length).toBeGreaterThan(0);
    expect(await orgCount()).toBe(before);
  });

  it('refuses malformed JSON', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: '{"slug": "dinsos",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('SPL_MALFORMED_BODY');
  });

  it('refuses a content type it does not take with 415', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { ...bearer(token), 'content-type': 'text/plain' },
      payload: 'slug=dinsos',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('SPL_UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ slug: 'x', name: 'y'.repeat(3 * 1024 * 1024), kind: 'perangkat-daerah' }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('SPL_PAYLOAD_TOO_LARGE');
  });

  it('answers a duplicate with 409 and an unknown route with a problem+json 404', async () => {
    const dup = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: bearer(token),
      payload: { slug: 'disdukcapil', name: 'again', kind: 'perangkat-daerah' },
    });
    expect(dup.statusCode).toBe(409);
    const missing = await r.app.inject({ url: '/v1/nothing-here', headers: bearer(token) });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
  });

  it('lets a publisher rename its own organisation but not change its kind or touch another', async () => {
    await r.organisation('dinkes');
    const publisher = await r.person({ org: 'disdukcapil', roles: ['publisher'] });
    const own = await r.app.inject({
      method: 'PATCH',
      url: '/v1/organisations/disdukcapil',
      headers: bearer(publisher.token),
      payload: { name: 'Disdukcapil Kota' },
    });
    expect(own.statusCode).toBe(200);
    const kind = await r.app.inject({
      method: 'PATCH',
      url: '/v1/organisations/disdukcapil',
      headers: bearer(publisher.token),
      payload: { kind: 'instansi-pusat' },
    });
    expect(kind.statusCode).toBe(403);
    const other = await r.app.inject({
      method: 'PATCH',
      url: '/v1/organisations/dinkes',
      headers: bearer(publisher.token),
      payload: { name: 'x' },
    });
    expect(other.statusCode).toBe(403);
  });

  it('stays up after all of that', async () => {
    expect((await r.app.inject('/readyz')).json().status).toBe('ready');
  });
});
