import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture, TEST_ISSUER } from '../helpers/hub-fixture.js';
import { FakeRegistry, rawRequest, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 *   dinkes/faskes/v1  published, GET POST, body limit 1024  → upstream (base path /base)
 *   dinkes/faskes/v2  deprecated, sunset 2027-01-01          → upstream
 *   portal     ── approved on v1 and v2
 *   dashboard  ── suspended on v1
 *   operator-client: a valid token naming no application
 */
describe('the request path', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let token: string;
  let base: string;

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    hub.route({ api: 'faskes', version: 'v1', urls: [`${upstream.url}/base`] });
    hub.route({
      api: 'faskes',
      version: 'v2',
      urls: [`${upstream.url}/base`],
      state: 'deprecated',
      sunsetAt: '2027-01-01T00:00:00.000Z',
    });
    hub.subscribe('app-portal', 'faskes', 'v1');
    hub.subscribe('app-portal', 'faskes', 'v2');
    hub.subscribe('app-dashboard', 'faskes', 'v1', 'suspended');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({ registryUrl: registry.url });
    token = await hub.token();
    base = await gw.listen();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

  const expectProblem = (
    res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
    code: string,
  ) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status, code, type: expect.stringMatching(/^urn:spl:problem:/) });
  };

  it('forwards an authorised call to the upstream with the rest of the path and the query', async () => {
    const res = await get('/dinkes/faskes/v1/puskesmas/12?kota=bogor');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ path: '/base/puskesmas/12?kota=bogor' });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('strips the consumer token and hop-by-hop headers and adds tracing and forwarding headers', async () => {
    upstream.seen.length = 0;
    await get('/dinkes/faskes/v1/x', {
      'x-custom': 'kept',
      'proxy-authorization': 'Basic abc',
      connection: 'x-secret-hop',
      'x-secret-hop': 'dropped',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const seen = upstream.seen[0]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-secret-hop']).toBeUndefined();
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['x-request-id']).toMatch(/[0-9a-f-]{36}/);
    expect(seen.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(seen.headers.traceparent).not.toContain('b7ad6b7169203331');
    expect(seen.headers['x-forwarded-for']).toBeTruthy();
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('localhost:80');
  });

  it('starts a trace when the caller sends none', async () => {
    upstream.seen.length = 0;
    await get('/dinkes/faskes/v1/x');
    expect(upstream.seen[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('forwards a POST body as raw bytes, whatever its content type (bad JSON is not the gateway’s business)', async () => {
    upstream.seen.length = 0;
    const res = await gw.app.inject({
      method: 'POST',
      url: '/dinkes/faskes/v1/rujukan',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"nik": 3201',
    });
    expect(res.statusCode).toBe(200);
    expect(upstream.seen[0]!.body).toBe('{"nik": 3201');
    expect(upstream.seen[0]!.headers['content-type']).toBe('application/json');
  });

  describe('401', () => {
    it('answers a call without a token with a Bearer challenge', async () => {
      const res = await gw.app.inject({ method: 'GET', url: '/dinkes/faskes/v1/x' });
      expectProblem(res, 401, 'SPL_INVALID_TOKEN');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="spl", error="invalid_token"');
    });

    it('answers a token that is not a JWT', async () => {
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: 'Bearer not-a-jwt' }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('answers a Basic credential', async () => {
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: 'Basic YTpi' }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses alg none', async () => {
      const [h, p] = token.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: hub.key.kid })).toString(
        'base64url',
      );
      const res = await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${header}.${p}.` });
      expectProblem(res, 401, 'SPL_INVALID_TOKEN');
      expect(h).toBeTruthy();
    });

    it('refuses HS256 signed with the public key as the secret (key confusion)', async () => {
      const secret = new TextEncoder().encode(JSON.stringify(hub.key.publicJwk));
      const forged = await new SignJWT({
        client_id: 'portal-client',
        spl_org: 'disdukcapil',
        spl_roles: [],
        jti: 'x',
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: hub.key.kid })
        .setIssuer(TEST_ISSUER)
        .setAudience('spl')
        .setSubject('portal-client')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(secret);
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${forged}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses a token from another issuer', async () => {
      const other = await hub.token('portal-client', { issuer: 'http://evil.test' });
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${other}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses a token for another audience', async () => {
      const other = await hub.token('portal-client', { audience: 'not-spl' });
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${other}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses an expired token', async () => {
      const expired = await hub.token('portal-client', { now: Date.now() - 3600_000, lifetimeSeconds: 60 });
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${expired}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses a token signed by a key the snapshot does not list', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({
        client_id: 'portal-client',
        spl_org: 'disdukcapil',
        spl_roles: [],
        jti: 'x',
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'unknown-kid' })
        .setIssuer(TEST_ISSUER)
        .setAudience('spl')
        .setSubject('portal-client')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${forged}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses a tampered token (payload changed, signature kept)', async () => {
      const [h, p, s] = token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      const changed = Buffer.from(JSON.stringify({ ...claims, client_id: 'dashboard-client' })).toString(
        'base64url',
      );
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${h}.${changed}.${s}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('refuses an oversized token before parsing it', async () => {
      const huge = `${'a'.repeat(9000)}.${'b'.repeat(10)}.c`;
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${huge}` }),
        401,
        'SPL_INVALID_TOKEN',
      );
    });

    it('comes before 404: without a token a missing API is not revealed', async () => {
      const res = await gw.app.inject({ method: 'GET', url: '/nowhere/none/v9/x' });
      expectProblem(res, 401, 'SPL_INVALID_TOKEN');
    });
  });

  describe('404', () => {
    it('answers an API version the snapshot does not route', async () => {
      expectProblem(await get('/dinkes/faskes/v9/x'), 404, 'SPL_ROUTE_NOT_FOUND');
      expectProblem(await get('/dinkes/nothing/v1'), 404, 'SPL_ROUTE_NOT_FOUND');
    });

    it('answers a path that names no version', async () => {
      expectProblem(await get('/dinkes/faskes'), 404, 'SPL_ROUTE_NOT_FOUND');
    });
  });

  describe('405', () => {
    it('answers a method the OpenAPI document does not declare, with Allow', async () => {
      const res = await gw.app.inject({
        method: 'DELETE',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${token}` },
      });
      expectProblem(res, 405, 'SPL_METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toContain('GET');
    });

    it('comes before 403: an unsubscribed caller learns the method is wrong first', async () => {
      const other = await hub.token('dashboard-client');
      const res = await gw.app.inject({
        method: 'PUT',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${other}` },
      });
      expectProblem(res, 405, 'SPL_METHOD_NOT_ALLOWED');
    });
  });

  describe('403', () => {
    it('answers a suspended subscription', async () => {
      const other = await hub.token('dashboard-client');
      const res = await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${other}` });
      expectProblem(res, 403, 'SPL_NOT_SUBSCRIBED');
      expect(res.json().detail).toContain('suspended');
    });

    it('answers a valid token that names no application', async () => {
      const other = await hub.token('operator-client');
      expectProblem(
        await get('/dinkes/faskes/v1/x', { authorization: `Bearer ${other}` }),
        403,
        'SPL_NOT_SUBSCRIBED',
      );
    });

    it('answers an application without any subscription to the version', async () => {
      const other = await hub.token('dashboard-client');
      expectProblem(
        await get('/dinkes/faskes/v2/x', { authorization: `Bearer ${other}` }),
        403,
        'SPL_NOT_SUBSCRIBED',
      );
    });
  });

  describe('413', () => {
    it('answers a body over the plan limit by Content-Length, before reading it', async () => {
      upstream.seen.length = 0;
      const res = await gw.app.inject({
        method: 'POST',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(1025),
      });
      expectProblem(res, 413, 'SPL_PAYLOAD_TOO_LARGE');
      expect(upstream.seen).toHaveLength(0);
    });

    it('accepts a body exactly at the limit', async () => {
      const res = await gw.app.inject({
        method: 'POST',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        payload: Buffer.alloc(1024, 97),
      });
      expect(res.statusCode).toBe(200);
    });

    it('comes after 403', async () => {
      const other = await hub.token('dashboard-client');
      const res = await gw.app.inject({
        method: 'POST',
        url: '/dinkes/faskes/v1/x',
        headers: { authorization: `Bearer ${other}`, 'content-type': 'text/plain' },
        payload: Buffer.alloc(5000),
      });
      expectProblem(res, 403, 'SPL_NOT_SUBSCRIBED');
    });
  });

  describe('path escapes', () => {
    it.each([
      '/dinkes/faskes/v1/../v2/x',
      '/dinkes/faskes/v1/%2e%2e/%2e%2e/admin',
      '/dinkes/faskes/v1/a%2f..%2fadmin',
      '/dinkes/faskes/v1/%252e%252e/admin',
      '/dinkes/faskes/v1/./x',
      '/dinkes/faskes/v1/a\\..\\admin',
      '/dinkes/faskes/v1/%zz',
    ])('refuses %s over HTTP, as sent, without reaching the upstream', async (url) => {
      upstream.seen.length = 0;
      const res = await rawRequest(base, url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'SPL_BAD_PATH' });
      expect(upstream.seen).toHaveLength(0);
    });

    it('refuses a dot segment over HTTP without a token with 401 first', async () => {
      const res = await rawRequest(base, '/dinkes/faskes/v1/../../x');
      expect(res.status).toBe(401);
    });

    it('collapses double slashes and stays under the upstream base path', async () => {
      const res = await get('/dinkes//faskes/v1//a//b');
      expect(res.json()).toEqual({ path: '/base/a/b' });
    });
  });

  it('adds Deprecation and Sunset to the answers of a deprecated version', async () => {
    const res = await get('/dinkes/faskes/v2/x');
    expect(res.statusCode).toBe(200);
    expect(res.headers.deprecation).toBe('true');
    expect(res.headers.sunset).toBe('Fri, 01 Jan 2027 00:00:00 GMT');
    const current = await get('/dinkes/faskes/v1/x');
    expect(current.headers.deprecation).toBeUndefined();
  });
});
