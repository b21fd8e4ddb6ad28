import { BACKEND_IDENTITY_INFO, deriveBackendIdentityKey, signBackendIdentity } from '@spl/token';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, TEST_ISSUER, type TestRegistry } from '../helpers/test-registry.js';

describe('the JWKS publishes the backend identity key (issue 3 §5)', () => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry({ store: 'pglite' });
  });
  afterAll(async () => r?.close());

  it('lists the EdDSA key derived from the master key, beside the ES256 hub keys', async () => {
    const expected = await deriveBackendIdentityKey(r.ctx.secretBox.deriveKey(BACKEND_IDENTITY_INFO));
    const res = await r.app.inject('/oauth2/jwks');
    expect(res.statusCode).toBe(200);
    const { keys } = res.json() as { keys: Array<Record<string, unknown>> };
    const identity = keys.filter((k) => k.alg === 'EdDSA');
    expect(identity).toHaveLength(1);
    expect(identity[0]).toEqual({ ...expected.publicJwk });
    expect(identity[0]!.kid).toBe(expected.kid);
    expect(identity[0]).not.toHaveProperty('d');
    expect(keys.some((k) => k.alg === 'ES256')).toBe(true);

    // A JWT the gateway would sign verifies against the published set.
    const { token } = await signBackendIdentity(expected, {
      issuer: TEST_ISSUER,
      audience: 'dinkes/faskes/v1',
      application: { id: 'app-1', org: 'disdukcapil', clientId: 'portal-client' },
    });
    const { payload } = await jwtVerify(token, createLocalJWKSet(res.json()), {
      issuer: TEST_ISSUER,
      audience: 'dinkes/faskes/v1',
    });
    expect(payload).toMatchObject({ sub: 'app-1', spl_org: 'disdukcapil', client_id: 'portal-client' });
  });

  it('keeps the identity key out of the snapshot hub keys (consumer tokens are ES256 only)', async () => {
    const { kid } = await deriveBackendIdentityKey(r.ctx.secretBox.deriveKey(BACKEND_IDENTITY_INFO));
    const { text } = await r.ctx.snapshots.current();
    const snapshot = JSON.parse(text) as { hubKeys: { keys: Array<{ kid: string; alg: string }> } };
    expect(snapshot.hubKeys.keys.length).toBeGreaterThan(0);
    expect(snapshot.hubKeys.keys.every((k) => k.alg === 'ES256')).toBe(true);
    expect(text).not.toContain(kid);
  });
});
