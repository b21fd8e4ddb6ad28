import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry, tokenRequest } from '../helpers/test-registry.js';

/** A fresh token from /oauth2/token (the helper's `token` caches; these tests must not). */
async function freshToken(r: TestRegistry, clientId: string, clientSecret: string, scope?: string) {
  const res = await tokenRequest(r.app, clientId, clientSecret, scope);
  expect(res.statusCode).toBe(200);
  return res.json().access_token as string;
}

// BKS 59(5): no duplicate sessions. A person holds one session, their newest token; machine
// clients (applications, data planes, the bootstrap operator) may hold several at once.
describe('one session per person', () => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry();
    await r.organisation('dinkes');
  });
  afterAll(async () => r?.close());

  it('refuses a person’s older token with 401 SPL_SESSION_SUPERSEDED once a newer one is issued', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const first = person.token;
    expect((await r.app.inject({ url: '/v1/me', headers: bearer(first) })).statusCode).toBe(200);

    const second = await freshToken(r, person.clientId, person.clientSecret);
    const refused = await r.app.inject({ url: '/v1/me', headers: bearer(first) });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(refused.json()).toMatchObject({
      status: 401,
      code: 'SPL_SESSION_SUPERSEDED',
      type: 'urn:spl:problem:session-superseded',
    });
    expect((await r.app.inject({ url: '/v1/me', headers: bearer(second) })).statusCode).toBe(200);
  });

  it('counts a token narrowed by scope as the new session too', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer', 'publisher'] });
    const narrowed = await freshToken(r, person.clientId, person.clientSecret, 'consumer');
    expect((await r.app.inject({ url: '/v1/me', headers: bearer(person.token) })).statusCode).toBe(401);
    const me = await r.app.inject({ url: '/v1/me', headers: bearer(narrowed) });
    expect(me.json().roles).toEqual(['consumer']);
  });

  it('lets an application hold several tokens at once (several gateway instances or workers)', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const created = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations/dinkes/applications',
      headers: bearer(person.token),
      payload: { slug: 'rujukan', name: 'Rujukan', credentials: {} },
    });
    const { clientId, clientSecret } = created.json().credentials;
    const a = await freshToken(r, clientId, clientSecret);
    const b = await freshToken(r, clientId, clientSecret);
    for (const token of [a, b])
      expect((await r.app.inject({ url: '/v1/organisations', headers: bearer(token) })).statusCode).toBe(200);
  });

  it('lets the bootstrap operator client hold several tokens at once', async () => {
    const a = await freshToken(r, r.bootstrap.clientId, r.bootstrap.clientSecret);
    const b = await freshToken(r, r.bootstrap.clientId, r.bootstrap.clientSecret);
    for (const token of [a, b])
      expect((await r.app.inject({ url: '/v1/users', headers: bearer(token) })).statusCode).toBe(200);
  });

  it('holds across registry instances: the session is in the store', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    // A newer token issued by "another instance" is a write of the same store.
    await r.ctx.sessions.begin(person.clientId, 'jti-issued-elsewhere');
    const refused = await r.app.inject({ url: '/v1/me', headers: bearer(person.token) });
    expect(refused.json().code).toBe('SPL_SESSION_SUPERSEDED');
  });
});
