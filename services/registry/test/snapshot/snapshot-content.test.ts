import { parseSnapshot, type Snapshot, upstreamSecretContext } from '@spl/snapshot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, TEST_ISSUER, type TestRegistry } from '../helpers/test-registry.js';
import { type SnapshotFixture, seedSnapshotFixture, UPSTREAM_SECRET } from './snapshot-fixture.js';

describe.each(['postgres', 'pglite'] as const)('snapshot content (%s)', (store) => {
  let r: TestRegistry;
  let fixture: SnapshotFixture;
  let text: string;
  let snapshot: Snapshot;

  beforeAll(async () => {
    r = await buildTestRegistry({ store });
    fixture = await seedSnapshotFixture(r);
    const res = await r.app.inject({ url: '/v1/snapshot', headers: bearer(await r.operatorToken()) });
    expect(res.statusCode).toBe(200);
    text = res.body;
    snapshot = parseSnapshot(text);
  });
  afterAll(async () => r?.close());

  it('is a valid snapshot document naming the hub issuer and audience', () => {
    expect(snapshot).toMatchObject({ format: 1, issuer: TEST_ISSUER, audience: 'spl' });
    expect(snapshot.version).toBeGreaterThan(0);
    expect(snapshot.etag).toMatch(/^[0-9a-f]{64}$/);
  });

  it('routes only published and deprecated versions', () => {
    expect(snapshot.routes.map((r) => `${r.org}/${r.api}/${r.version}:${r.state}`)).toEqual([
      'dinkes/faskes/v1:published',
      'dinkes/faskes/v2:deprecated',
    ]);
    const [v1, v2] = snapshot.routes;
    expect(v1).toMatchObject({
      id: fixture.ids.faskesV1,
      classification: 'terbatas',
      upstream: { urls: ['http://127.0.0.1:8090/faskes'], timeoutMs: 5000 },
      upstreamAuth: { kind: 'header', name: 'X-Api-Key' },
      plan: { requestsPerMinute: 600, bodyLimitBytes: 65536 },
      methods: ['GET'],
      openapiHash: fixture.openapiHash,
      restrictedFields: ['nik'],
    });
    expect(v1?.sunsetAt).toBeUndefined();
    expect(v2?.sunsetAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('carries each OpenAPI document once, by its hash', () => {
    expect(Object.keys(snapshot.openapi)).toEqual([fixture.openapiHash]);
    expect(snapshot.openapi[fixture.openapiHash]).toMatchObject({ info: { title: 'Fasilitas kesehatan' } });
  });

  it('lists only approved and suspended subscriptions to routed versions', () => {
    expect(snapshot.subscriptions).toEqual([
      { applicationId: fixture.ids.portal, org: 'dinkes', api: 'faskes', version: 'v1', state: 'approved' },
      { applicationId: fixture.ids.portal, org: 'dinkes', api: 'faskes', version: 'v2', state: 'suspended' },
    ]);
  });

  it('lists applications with their client ids or their federated identity', () => {
    const portal = snapshot.applications.find((a) => a.id === fixture.ids.portal);
    const splp = snapshot.applications.find((a) => a.id === fixture.ids.splpApp);
    expect(portal).toEqual({
      id: fixture.ids.portal,
      org: 'disdukcapil',
      slug: 'portal',
      clientIds: [fixture.portalClientId],
    });
    expect(splp).toEqual({
      id: fixture.ids.splpApp,
      org: 'disdukcapil',
      slug: 'splp-app',
      clientIds: [],
      federated: { issuer: 'https://splp.example.go.id', clientClaimValue: 'splp-client-42' },
    });
    expect(snapshot.trustedIssuers).toEqual([
      {
        slug: 'splp',
        issuer: 'https://splp.example.go.id',
        jwksUrl: 'https://splp.example.go.id/jwks',
        audience: 'spl',
        algorithms: ['ES256', 'RS256'],
        clientClaim: 'azp',
      },
    ]);
    expect(snapshot.organisations.map((o) => o.slug)).toEqual(['dinkes', 'disdukcapil', 'diskominfo']);
  });

  it('has the hub keys of the JWKS (not the backend identity key) and no private key anywhere', async () => {
    const jwks = (await r.app.inject('/oauth2/jwks')).json() as { keys: { kid: string; alg: string }[] };
    const hubKeys = jwks.keys.filter((k) => k.alg !== 'EdDSA');
    expect(jwks.keys.length).toBe(hubKeys.length + 1);
    expect(snapshot.hubKeys.keys.map((k) => k.kid)).toEqual(hubKeys.map((k) => k.kid));
    const [row] = await r.db.query<{ kid: string; private_key: string }>(
      'SELECT kid, private_key FROM signing_keys',
    );
    const privateJwk = JSON.parse(r.ctx.secretBox.open(row!.private_key, `signing-key:${row!.kid}`));
    expect(text).not.toContain(privateJwk.d);
    expect(text).not.toMatch(/"d"\s*:/);
  });

  it('keeps the upstream secret sealed: absent in clear, openable with the master key', () => {
    expect(text).not.toContain(UPSTREAM_SECRET);
    const auth = snapshot.routes[0]!.upstreamAuth;
    expect(auth.kind).toBe('header');
    const sealed = (auth as { sealedSecret?: string }).sealedSecret!;
    expect(JSON.parse(r.ctx.secretBox.open(sealed, upstreamSecretContext(fixture.ids.faskesV1)))).toEqual({
      value: UPSTREAM_SECRET,
    });
  });

  it('answers with a quoted ETag, no-cache, and 304 to a matching If-None-Match', async () => {
    const token = await r.operatorToken();
    const res = await r.app.inject({ url: '/v1/snapshot', headers: bearer(token) });
    expect(res.headers.etag).toBe(`"${snapshot.etag}"`);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    for (const ifNoneMatch of [
      `"${snapshot.etag}"`,
      `W/"${snapshot.etag}"`,
      `"other", "${snapshot.etag}"`,
      '*',
    ]) {
      const again = await r.app.inject({
        url: '/v1/snapshot',
        headers: { ...bearer(token), 'if-none-match': ifNoneMatch },
      });
      expect(again.statusCode, ifNoneMatch).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(`"${snapshot.etag}"`);
    }
    const stale = await r.app.inject({
      url: '/v1/snapshot',
      headers: { ...bearer(token), 'if-none-match': '"old"' },
    });
    expect(stale.statusCode).toBe(200);
  });
});

describe('snapshot access', () => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry();
    await r.organisation('dinkes');
  });
  afterAll(async () => r?.close());

  it('refuses a caller without a token (401) and a consumer or publisher (403)', async () => {
    expect((await r.app.inject('/v1/snapshot')).statusCode).toBe(401);
    for (const role of ['consumer', 'publisher', 'reviewer']) {
      const person = await r.person({ org: 'dinkes', roles: [role] });
      const res = await r.app.inject({ url: '/v1/snapshot', headers: bearer(person.token) });
      expect(res.statusCode, role).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('serves an auditor', async () => {
    const auditor = await r.person({ org: 'diskominfo', roles: ['auditor'] });
    expect((await r.app.inject({ url: '/v1/snapshot', headers: bearer(auditor.token) })).statusCode).toBe(
      200,
    );
  });

  it('creates data-plane credentials (operator only) that fetch the snapshot and nothing else', async () => {
    const consumer = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const refused = await r.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(consumer.token),
      payload: { name: 'gateway-1' },
    });
    expect(refused.statusCode).toBe(403);

    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(await r.operatorToken()),
      payload: { name: 'gateway-1' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const credentials = res.json();
    expect(credentials).toMatchObject({ org: 'diskominfo', roles: ['dataplane'] });
    expect(credentials.clientId).toMatch(/^dataplane-gateway-1-/);
    const token = await r.token(credentials.clientId, credentials.clientSecret);
    expect((await r.app.inject({ url: '/v1/snapshot', headers: bearer(token) })).statusCode).toBe(200);
    const create = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: bearer(token),
      payload: { slug: 'nope', name: 'Nope', kind: 'perangkat-daerah' },
    });
    expect(create.statusCode).toBe(403);
    // The audit trail records the client, never its secret.
    const audit = await r.db.query<{ after: unknown }>(
      "SELECT after FROM audit_log WHERE entity_id = $1 AND action = 'client.create'",
      [credentials.clientId],
    );
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(credentials.clientSecret);
  });

  it('refuses an unknown field in the data-plane client request', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(await r.operatorToken()),
      payload: { name: 'gateway-2', roles: ['operator'] },
    });
    expect(res.statusCode).toBe(400);
  });
});
