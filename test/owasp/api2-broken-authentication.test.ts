import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, importSigningKey, signAccessToken } from '../../packages/token/src/index.js';
import {
  buildTestRegistry,
  TEST_ISSUER,
  type TestRegistry,
} from '../../services/registry/test/helpers/test-registry.js';

/**
 * OWASP API2:2023 Broken Authentication: guessing client secrets, stuffing credentials, and
 * forging, tampering with or replaying tokens.
 *
 * Refused by: BKS 59(4) (server-side checks, a cap on failed attempts: SPL_AUTH_LOCKOUT_*),
 * 59(5)(a)–(b) (random tokens that expire), 60(3)(d) (authenticate the identity of connected
 * services), 60(5)(b) (current OAuth: RFC 6749 client credentials, RFC 9068 JWTs verified on
 * every request, 59(6)(d)). The token endpoint keeps RFC 6749 §5.2 errors; every other route
 * answers 401 problem+json with a Bearer challenge.
 */
describe('API2 broken authentication', () => {
  let r: TestRegistry;
  let token: string;

  beforeAll(async () => {
    r = await buildTestRegistry({
      env: { SPL_AUTH_SLOWDOWN_AFTER: '50', SPL_AUTH_LOCKOUT_AFTER: '3', SPL_AUTH_LOCKOUT_SECONDS: '600' },
    });
    token = (await r.person({ org: 'diskominfo', roles: ['auditor'] })).token;
  });
  afterAll(async () => r?.close());

  const tokenRequest = (clientId: string, secret: string) =>
    r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
      }).toString(),
    });
  const me = (authorization?: string, url = '/v1/me') =>
    r.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

  it('answers a wrong secret and an unknown client alike, so client ids cannot be enumerated', async () => {
    const wrong = await tokenRequest(r.bootstrap.clientId, 'not-the-secret');
    const unknown = await tokenRequest('no-such-client', 'not-the-secret');
    expect(wrong.json()).toEqual(unknown.json());
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });

  it('locks a client out after repeated failures, even when the right secret then comes', async () => {
    const person = await r.person({ org: 'diskominfo', roles: ['auditor'] });
    for (let i = 0; i < 3; i++)
      expect((await tokenRequest(person.clientId, `guess-${i}`)).statusCode).toBe(401);
    const locked = await tokenRequest(person.clientId, person.clientSecret);
    expect(locked.statusCode).toBe(401);
    expect(locked.json().error).toBe('invalid_client');
  });

  it('issues tokens that are not cached by intermediaries', async () => {
    const res = await tokenRequest(r.bootstrap.clientId, r.bootstrap.clientSecret);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('accepts its own token and refuses a missing one with a Bearer challenge', async () => {
    expect((await me(`Bearer ${token}`)).statusCode).toBe(200);
    const none = await me();
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a token with alg none', async () => {
    const [, payload] = token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    expect((await me(`Bearer ${header}.${payload}.`)).statusCode).toBe(401);
  });

  it('refuses a token whose claims were raised to operator with the signature kept', async () => {
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.spl_roles = ['operator'];
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expect((await me(`Bearer ${forged}`, '/v1/users')).statusCode).toBe(401);
  });

  it("refuses a well-formed operator token signed by a key that is not the hub's, even with the hub's kid", async () => {
    const [h] = token.split('.');
    const kid = JSON.parse(Buffer.from(h!, 'base64url').toString()).kid as string;
    const foreign = await generateSigningKey();
    const signing = await importSigningKey(foreign.privateJwkJson.replace(/"kid":"[^"]*"/, `"kid":"${kid}"`));
    const { token: forged } = await signAccessToken(signing, {
      issuer: TEST_ISSUER,
      audience: 'spl',
      clientId: r.bootstrap.clientId,
      org: 'diskominfo',
      roles: ['operator'],
      lifetimeSeconds: 300,
    });
    expect((await me(`Bearer ${forged}`, '/v1/users')).statusCode).toBe(401);
  });

  it('does not take a token from the query string, where logs and Referer would keep it', async () => {
    expect((await me(undefined, `/v1/me?access_token=${token}`)).statusCode).toBe(401);
  });

  it("refuses the hub's own token once it has expired (default lifetime 300 s)", async () => {
    const { token: expired } = await signAccessToken(await r.ctx.keyRing.activeKey(), {
      issuer: TEST_ISSUER,
      audience: 'spl',
      clientId: r.bootstrap.clientId,
      org: 'diskominfo',
      roles: ['operator'],
      lifetimeSeconds: 300,
      now: Date.now() - 10 * 60_000,
    });
    expect((await me(`Bearer ${expired}`)).statusCode).toBe(401);
  });
});
