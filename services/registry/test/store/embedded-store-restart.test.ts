import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadRegistryConfig } from '../../src/config.js';
import { createPgliteDatabase } from '../../src/store/database.js';
import { bearer, deleteRedisPrefix, TEST_REDIS_URL } from '../helpers/test-registry.js';

// Without DATABASE_URL the registry keeps its store in SPL_DATA_DIR (embedded PGlite): a
// restart must find everything, create no second bootstrap client, and keep its keys.
describe('the embedded store across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spl-pglite-'));
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(TEST_REDIS_URL);
  const masterKey = randomBytes(32);
  afterAll(async () => {
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (bootstrapSecret: string) => {
    const db = await createPgliteDatabase({ dataDir: join(dir, 'registry-db') });
    const config = loadRegistryConfig({
      SPL_PUBLIC_URL: 'http://registry.test',
      SPL_REDIS_PREFIX: prefix,
      SPL_BOOTSTRAP_CLIENT_ID: 'bootstrap-operator',
      SPL_BOOTSTRAP_CLIENT_SECRET: bootstrapSecret,
    });
    const built = await buildApp({ config, db, redis, secretBox: createSecretBox(masterKey), logger: false });
    return { ...built, db };
  };
  const tokenFor = async (app: Awaited<ReturnType<typeof start>>['app'], secret: string) =>
    app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=bootstrap-operator&client_secret=${secret}`,
    });

  it('keeps organisations, the bootstrap client and the signing key', async () => {
    const first = await start('first-bootstrap-secret-0123456789');
    expect(first.bootstrapCredentials).not.toBeNull();
    const token = (await tokenFor(first.app, 'first-bootstrap-secret-0123456789')).json().access_token;
    await first.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: bearer(token),
      payload: { slug: 'dinsos', name: 'Dinas Sosial', kind: 'perangkat-daerah' },
    });
    const jwks = (await first.app.inject('/oauth2/jwks')).json();
    const [sealed] = await first.db.query<{ private_key: string }>('SELECT private_key FROM signing_keys');
    // The private key is sealed at rest (BKS 60(2)(b)): no JWK member `d` in the clear.
    expect(sealed!.private_key).toMatch(/^v1\./);
    expect(sealed!.private_key).not.toContain('"d"');
    await first.app.close();
    await first.db.close();

    // Different bootstrap env on the second start: ignored, the store is not empty.
    const second = await start('second-bootstrap-secret-012345678');
    expect(second.bootstrapCredentials).toBeNull();
    expect((await tokenFor(second.app, 'second-bootstrap-secret-012345678')).statusCode).toBe(401);
    const again = await tokenFor(second.app, 'first-bootstrap-secret-0123456789');
    expect(again.statusCode).toBe(200);
    const org = await second.app.inject({
      url: '/v1/organisations/dinsos',
      headers: bearer(again.json().access_token),
    });
    expect(org.statusCode).toBe(200);
    expect((await second.app.inject('/oauth2/jwks')).json()).toEqual(jwks);
    // A token from before the restart still verifies.
    expect((await second.app.inject({ url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    await second.app.close();
    await second.db.close();
  });
});
