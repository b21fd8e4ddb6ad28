import { parseSnapshot } from '@spl/snapshot';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, TEST_ISSUER, type TestRegistry } from '../helpers/test-registry.js';

describe('signing key rotation', () => {
  let r: TestRegistry;
  let now = Date.now();
  const clock = () => new Date(now);
  const advance = (seconds: number) => {
    now += seconds * 1000;
  };

  // The hub keys of the JWKS: the EdDSA backend identity key (issue 3 §5) is not rotated here.
  const jwks = async () => {
    const set = (await r.app.inject('/oauth2/jwks')).json() as { keys: { kid: string; alg: string }[] };
    return { keys: set.keys.filter((k) => k.alg !== 'EdDSA') };
  };
  const issue = async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: r.bootstrap.clientId,
        client_secret: r.bootstrap.clientSecret,
      }).toString(),
    });
    expect(res.statusCode).toBe(200);
    return res.json().access_token as string;
  };
  const snapshotKids = async (token: string) => {
    const res = await r.app.inject({ url: '/v1/snapshot', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return parseSnapshot(res.body).hubKeys.keys.map((k) => k.kid);
  };

  beforeAll(async () => {
    r = await buildTestRegistry({ clock });
  });
  afterAll(async () => r?.close());

  it('lists one active key to operators and auditors, and nobody else', async () => {
    const res = await r.app.inject({ url: '/v1/keys', headers: bearer(await r.operatorToken()) });
    expect(res.statusCode).toBe(200);
    const keys = res.json();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ alg: 'ES256', status: 'active', retiredAt: null, notAfter: null });
    expect(JSON.stringify(keys)).not.toMatch(/"d"|private/i);

    const auditor = await r.person({ org: 'diskominfo', roles: ['auditor'] });
    expect((await r.app.inject({ url: '/v1/keys', headers: bearer(auditor.token) })).statusCode).toBe(200);
    const rotateAsAuditor = await r.app.inject({
      method: 'POST',
      url: '/v1/keys/rotate',
      headers: bearer(auditor.token),
    });
    expect(rotateAsAuditor.statusCode).toBe(403);
    await r.organisation('dinkes');
    const publisher = await r.person({ org: 'dinkes', roles: ['publisher'] });
    expect((await r.app.inject({ url: '/v1/keys', headers: bearer(publisher.token) })).statusCode).toBe(403);
    expect((await r.app.inject({ method: 'POST', url: '/v1/keys/rotate' })).statusCode).toBe(401);
  });

  it('keeps the old key verifying its tokens until they expire, then drops it from JWKS and snapshot', async () => {
    const oldToken = await issue();
    const oldKid = decodeProtectedHeader(oldToken).kid!;
    expect(await snapshotKids(oldToken)).toEqual([oldKid]);

    const rotated = await r.app.inject({ method: 'POST', url: '/v1/keys/rotate', headers: bearer(oldToken) });
    expect(rotated.statusCode).toBe(200);
    const { kid: newKid, retired, keys } = rotated.json();
    expect(newKid).not.toBe(oldKid);
    expect(retired).toEqual([oldKid]);
    expect(keys.map((k: { kid: string; status: string }) => `${k.kid}:${k.status}`)).toEqual([
      `${newKid}:active`,
      `${oldKid}:retiring`,
    ]);
    const retiring = keys.find((k: { kid: string }) => k.kid === oldKid);
    // Retired now; gone once every token it signed (300 s lifetime) has expired.
    expect(Date.parse(retiring.notAfter) - Date.parse(retiring.retiredAt)).toBeGreaterThanOrEqual(300_000);

    // The old token still verifies against the published JWKS and still works on the API.
    const afterRotation = await jwks();
    expect(afterRotation.keys.map((k) => k.kid).sort()).toEqual([newKid, oldKid].sort());
    await jwtVerify(oldToken, createLocalJWKSet(afterRotation as never), {
      issuer: TEST_ISSUER,
      audience: 'spl',
    });
    expect((await r.app.inject({ url: '/v1/organisations', headers: bearer(oldToken) })).statusCode).toBe(
      200,
    );

    // New tokens are signed by the new key; the snapshot's hub keys follow.
    const newToken = await issue();
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    expect((await snapshotKids(newToken)).sort()).toEqual([newKid, oldKid].sort());

    // Past not_after the retired key leaves the JWKS, the key list and the snapshot.
    advance((Date.parse(retiring.notAfter) - now) / 1000 + 1);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    const later = await issue();
    const listed = (await r.app.inject({ url: '/v1/keys', headers: bearer(later) })).json();
    expect(listed.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
    expect(await snapshotKids(later)).toEqual([newKid]);
    // A token of the dropped key is no longer accepted.
    expect((await r.app.inject({ url: '/v1/organisations', headers: bearer(oldToken) })).statusCode).toBe(
      401,
    );
  });

  it('records the rotation in the audit trail without key material', async () => {
    const rows = await r.db.query<{ after: unknown; before: unknown }>(
      "SELECT before, after FROM audit_log WHERE action = 'signing-key.rotate' ORDER BY seq",
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(rows)).not.toMatch(/"d"|privateJwk|"x"/);
  });
});
