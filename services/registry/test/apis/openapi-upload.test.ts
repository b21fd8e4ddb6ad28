import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOpenApi } from '../../src/apis/openapi-document.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { countRows, createApi, SECRET_HEADER_VALUE, versionBody } from './fixtures.js';

const info = { title: 'Contoh', version: '1' };
const okPath = { '/a': { get: { responses: { '200': { description: 'ok' } } } } };

describe('uploading a version and its OpenAPI document', () => {
  let r: TestRegistry;
  let publisher: { token: string };
  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_OPENAPI_MAX_BYTES: String(64 * 1024) } });
    await r.organisation('dpmptsp');
    await r.organisation('dinkes');
    publisher = await r.person({ org: 'dpmptsp', roles: ['publisher'] });
    await createApi(r, 'dpmptsp', 'perizinan');
  });
  afterAll(async () => r?.close());

  const post = (payload: unknown, token = publisher.token, headers: Record<string, string> = {}) =>
    r.app.inject({
      method: 'POST',
      url: '/v1/apis/dpmptsp/perizinan/versions',
      headers: { ...bearer(token), ...headers },
      payload: payload as string,
    });

  it('stores a YAML 3.1 document, its methods and its restricted fields, and never answers the secret', async () => {
    const res = await post(versionBody('v1'));
    expect(res.statusCode).toBe(201);
    const v = res.json();
    expect(v).toMatchObject({
      org: 'dpmptsp',
      api: 'perizinan',
      version: 'v1',
      state: 'draft',
      methods: ['GET', 'POST'],
      upstream: { urls: ['https://perizinan.contoh.go.id/api'], timeoutMs: 5000 },
      upstreamAuth: { kind: 'header', name: 'X-Api-Key' },
      hasSecret: true,
      plan: { requestsPerMinute: 600, burst: 100, bodyLimitBytes: 1024 * 1024 },
    });
    expect(v.openapiHash).toMatch(/^[0-9a-f]{64}$/);
    expect(v.restrictedFields).toEqual(
      expect.arrayContaining([
        '/components/schemas/Izin/properties/pemohon/properties/alamat',
        '/paths/~1izin/post/requestBody/content/application~1json/schema/properties/nik',
      ]),
    );
    expect(v.restrictedFieldNames).toEqual(['alamat', 'nik']);
    expect(res.body).not.toContain(SECRET_HEADER_VALUE);

    const [row] = await r.db.query<{ upstream_secret: string; upstream_auth: unknown }>(
      "SELECT upstream_secret, upstream_auth FROM api_versions WHERE version = 'v1'",
    );
    expect(row!.upstream_secret).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(SECRET_HEADER_VALUE);

    const doc = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v1/openapi',
      headers: bearer(publisher.token),
    });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json()).slice(0, 2)).toEqual(['openapi', 'info']);
    expect(
      doc.json().components.schemas.Izin.properties.pemohon.properties.alamat['x-spl-classification'],
    ).toBe('dikecualikan');

    for (const url of [
      '/v1/apis/dpmptsp/perizinan/versions/v1',
      '/v1/apis/dpmptsp/perizinan/versions',
      '/v1/apis/dpmptsp/perizinan',
    ]) {
      const got = await r.app.inject({ url, headers: bearer(publisher.token) });
      expect(got.statusCode).toBe(200);
      expect(got.body).not.toContain(SECRET_HEADER_VALUE);
    }
  });

  it('stores a document shared by two versions once, by its content hash', async () => {
    const before = await countRows(r, 'openapi_documents');
    const res = await post(versionBody('v1-copy', { openapi: versionBody().openapi }));
    expect(res.statusCode).toBe(201);
    expect(await countRows(r, 'openapi_documents')).toBe(before);
  });

  it('accepts the document as a JSON object and as a string of JSON', async () => {
    const doc = { openapi: '3.0.3', info, paths: okPath };
    expect((await post(versionBody('v-object', { openapi: doc }))).statusCode).toBe(201);
    expect((await post(versionBody('v-json', { openapi: JSON.stringify(doc) }))).statusCode).toBe(201);
  });

  it.each([
    ['a document without info', { openapi: '3.1.0', paths: okPath }, ''],
    [
      'a $ref to nothing',
      {
        openapi: '3.1.0',
        info,
        paths: { '/a': { get: { responses: { '200': { $ref: '#/components/responses/Nope' } } } } },
      },
      '/paths/~1a/get/responses/200/$ref',
    ],
    ['a Swagger 2.0 document', { swagger: '2.0', info, paths: {} }, '/swagger'],
    [
      'an external $ref (never fetched)',
      {
        openapi: '3.1.0',
        info,
        paths: {
          '/a': { get: { responses: { '200': { $ref: 'http://169.254.169.254/latest/meta-data' } } } },
        },
      },
      '/paths/~1a/get/responses/200/$ref',
    ],
    [
      'a file $ref (never read)',
      { openapi: '3.1.0', info, paths: { '/a': { $ref: 'file:///etc/passwd' } } },
      '/paths/~1a/$ref',
    ],
    ['text that is neither JSON nor YAML', 'openapi: [3.1.0\n  info: : {', ''],
    [
      'a wrongly typed title',
      { openapi: '3.0.3', info: { title: 5, version: '1' }, paths: okPath },
      '/info/title',
    ],
  ])(
    'refuses %s with 400 SPL_INVALID_OPENAPI saying where, and stores nothing',
    async (_name, openapi, pointer) => {
      const counts = [await countRows(r, 'api_versions'), await countRows(r, 'openapi_documents')];
      const audits = await countRows(r, 'audit_log');
      const res = await post(versionBody('v-bad', { openapi }));
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = res.json();
      expect(problem.code).toBe('SPL_INVALID_OPENAPI');
      expect(problem.errors.length).toBeGreaterThan(0);
      expect(problem.errors[0]).toEqual({ pointer, message: expect.any(String) });
      if (_name.includes('info')) expect(problem.errors[0].message).toMatch(/info/);
      expect([await countRows(r, 'api_versions'), await countRows(r, 'openapi_documents')]).toEqual(counts);
      expect(await countRows(r, 'audit_log')).toBe(audits);
    },
  );

  it('refuses a document over SPL_OPENAPI_MAX_BYTES with 413 problem+json and stores nothing', async () => {
    const before = await countRows(r, 'api_versions');
    const huge = { openapi: '3.1.0', info: { ...info, description: 'x'.repeat(70 * 1024) }, paths: okPath };
    for (const openapi of [huge, JSON.stringify(huge)]) {
      const res = await post(versionBody('v-big', { openapi }));
      expect(res.statusCode).toBe(413);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('SPL_PAYLOAD_TOO_LARGE');
    }
    expect(await countRows(r, 'api_versions')).toBe(before);
    // `spl apply` hands documents to the domain directly; the same limit holds there.
    await expect(checkOpenApi(JSON.stringify(huge), 64 * 1024)).rejects.toMatchObject({
      code: 'SPL_PAYLOAD_TOO_LARGE',
    });
  });

  // The OpenAPI schema validator is compiled once per process and shared (a pnpm patch of
  // @readme/openapi-parser; compiling it per document cost ~75 ms each, 15 s for an apply of
  // 200 APIs). One document's errors must not carry over to the next.
  it('judges each document on its own when 3.0 and 3.1, valid and invalid, come one after another', async () => {
    const valid = (openapi: string) => JSON.stringify({ openapi, info, paths: okPath });
    const noInfo = (openapi: string) => JSON.stringify({ openapi, paths: okPath });
    for (let round = 0; round < 2; round++)
      for (const openapi of ['3.0.3', '3.1.0']) {
        await expect(checkOpenApi(noInfo(openapi), 64 * 1024)).rejects.toMatchObject({
          code: 'SPL_INVALID_OPENAPI',
          message: expect.stringContaining("required property 'info'"),
        });
        await expect(checkOpenApi(valid(openapi), 64 * 1024)).resolves.toMatchObject({ methods: ['GET'] });
      }
    const [res30, res31] = await Promise.all([
      checkOpenApi(noInfo('3.0.3'), 64 * 1024).catch((e: unknown) => e),
      checkOpenApi(valid('3.1.0'), 64 * 1024),
    ]);
    expect(res30).toMatchObject({ code: 'SPL_INVALID_OPENAPI' });
    expect(res31).toMatchObject({ methods: ['GET'] });
  });

  it('refuses unknown fields, anywhere in the body, with 400', async () => {
    for (const body of [
      versionBody('v-x', { color: 'blue' }),
      versionBody('v-x', { upstream: { urls: ['https://a.go.id'], retries: 3 } }),
      versionBody('v-x', { upstreamAuth: { kind: 'none', value: 'x' } }),
    ]) {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('SPL_VALIDATION');
    }
  });

  it('refuses malformed JSON with a problem+json 400 and a wrong content type with 415', async () => {
    const bad = await post('{"version": "v1",', publisher.token, { 'content-type': 'application/json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.json().code).toBe('SPL_MALFORMED_BODY');
    const text = await post('openapi: 3.1.0', publisher.token, { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses upstream URLs that are not http(s), and too many of them', async () => {
    const ftp = await post(versionBody('v-x', { upstream: { urls: ['ftp://a.go.id'] } }));
    expect(ftp.statusCode).toBe(400);
    const many = await post(
      versionBody('v-x', { upstream: { urls: Array.from({ length: 9 }, (_, i) => `https://a${i}.go.id`) } }),
    );
    expect(many.statusCode).toBe(400);
  });

  it('lets only publishers of the owning organisation, and operators, add versions', async () => {
    const other = await r.person({ org: 'dinkes', roles: ['publisher'] });
    expect((await post(versionBody('v-other'), other.token)).statusCode).toBe(403);
    const consumer = await r.person({ org: 'dpmptsp', roles: ['consumer'] });
    expect((await post(versionBody('v-other'), consumer.token)).statusCode).toBe(403);
    expect((await post(versionBody('v-op'), await r.operatorToken())).statusCode).toBe(201);
  });

  it('keeps every secret kind out of responses and the audit trail', async () => {
    const secrets = {
      oauth2: 'oauth2-client-secret-2f1e0d9c8b7a',
      mtls: '-----BEGIN PRIVATE KEY-----\nMIIsecretkeymaterial0123456789\n-----END PRIVATE KEY-----',
    };
    const oauth = await post(
      versionBody('v-oauth', {
        upstreamAuth: {
          kind: 'oauth2',
          tokenUrl: 'https://splp.go.id/oauth2/token',
          clientId: 'spl-contoh',
          clientSecret: secrets.oauth2,
          scope: 'read',
        },
      }),
    );
    expect(oauth.statusCode).toBe(201);
    expect(oauth.json().upstreamAuth).toEqual({
      kind: 'oauth2',
      tokenUrl: 'https://splp.go.id/oauth2/token',
      clientId: 'spl-contoh',
      scope: 'read',
    });
    const mtls = await post(
      versionBody('v-mtls', {
        upstreamAuth: {
          kind: 'mtls',
          certificatePem: '-----BEGIN CERTIFICATE-----\nMII\n',
          privateKeyPem: secrets.mtls,
        },
      }),
    );
    expect(mtls.statusCode).toBe(201);
    expect(mtls.json().hasSecret).toBe(true);
    // Rotate the header secret of a draft: audited as a change, without the value.
    const rotated = 'rotated-header-secret-a1b2c3d4e5';
    const patch = await r.app.inject({
      method: 'PATCH',
      url: '/v1/apis/dpmptsp/perizinan/versions/v1',
      headers: bearer(publisher.token),
      payload: { upstreamAuth: { kind: 'header', name: 'X-Api-Key', value: rotated } },
    });
    expect(patch.statusCode).toBe(200);
    for (const body of [oauth.body, mtls.body, patch.body]) {
      for (const s of [...Object.values(secrets), rotated, SECRET_HEADER_VALUE])
        expect(body).not.toContain(s);
    }
    const audit = await r.db.query<{ before: unknown; after: unknown }>(
      'SELECT before, after FROM audit_log',
    );
    const trail = JSON.stringify(audit);
    expect(trail).toContain('secretChanged');
    for (const s of [...Object.values(secrets), rotated, SECRET_HEADER_VALUE, 'MIIsecretkeymaterial'])
      expect(trail).not.toContain(s);
  });
});
