import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, TEST_ISSUER, type TestRegistry } from '../helpers/test-registry.js';

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

describe.each(['postgres', 'pglite'] as const)('token endpoint (%s)', (store) => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry({ store });
  });
  afterAll(async () => r?.close());

  it('publishes RFC 8414 metadata whose issuer is the public URL', async () => {
    const res = await r.app.inject('/.well-known/oauth-authorization-server');
    expect(res.statusCode).toBe(200);
    const meta = res.json();
    expect(meta.issuer).toBe(TEST_ISSUER);
    expect(meta.token_endpoint).toBe(`${TEST_ISSUER}/oauth2/token`);
    expect(meta.jwks_uri).toBe(`${TEST_ISSUER}/oauth2/jwks`);
    expect(meta.grant_types_supported).toContain('client_credentials');
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
  });

  it('issues an RFC 9068 JWT with client_secret_post that verifies against the JWKS', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      ...form({
        grant_type: 'client_credentials',
        client_id: r.bootstrap.clientId,
        client_secret: r.bootstrap.clientSecret,
      }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(300);
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const jwks = (await r.app.inject('/oauth2/jwks')).json();
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
      issuer: TEST_ISSUER,
      audience: 'spl',
    });
    expect(payload).toMatchObject({
      sub: r.bootstrap.clientId,
      client_id: r.bootstrap.clientId,
      spl_org: 'diskominfo',
      spl_roles: ['operator'],
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('accepts client_secret_basic', async () => {
    const basic = Buffer.from(`${r.bootstrap.clientId}:${r.bootstrap.clientSecret}`).toString('base64');
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      payload: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers a wrong secret with invalid_client, 401 and WWW-Authenticate: Basic', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      ...form({ grant_type: 'client_credentials', client_id: r.bootstrap.clientId, client_secret: 'wrong' }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    expect(res.json()).toMatchObject({ error: 'invalid_client' });
    await r.redis.del(r.ctx.keys.authFailures(r.bootstrap.clientId));
  });

  it.each([
    ['an unsupported grant', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ['a missing grant_type', {}, 400, 'invalid_request'],
    [
      'a scope the client does not hold',
      { grant_type: 'client_credentials', scope: 'auditor' },
      400,
      'invalid_scope',
    ],
  ])('answers %s with RFC 6749 JSON', async (_name, fields, status, error) => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      ...form({ client_id: r.bootstrap.clientId, client_secret: r.bootstrap.clientSecret, ...fields }),
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toBe(error);
  });

  it('refuses a JSON body with invalid_request', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: { grant_type: 'client_credentials' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('lets a token call the registry API, and refuses a tampered one with WWW-Authenticate', async () => {
    const token = await r.operatorToken();
    expect((await r.app.inject({ url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    const tampered = `${token.slice(0, -4)}AAAA`;
    const res = await r.app.inject({ url: '/v1/me', headers: bearer(tampered) });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
  });
});
