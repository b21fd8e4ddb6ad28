import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry, tokenRequest } from '../helpers/test-registry.js';

const DAY = 86_400_000;

async function gauge(r: TestRegistry, name: string): Promise<number> {
  const res = await r.app.inject('/metrics');
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(res.body)?.[1]);
}

// BKS 59(4): a secret of a person or an application stops working SPL_SECRET_MAX_AGE_DAYS
// after it was issued; rotation issues one with a fresh age; operators are warned ahead.
describe('client secrets with a maximum age', () => {
  let r: TestRegistry;
  let offsetMs = 0;
  beforeAll(async () => {
    r = await buildTestRegistry({
      env: { SPL_SECRET_MAX_AGE_DAYS: '30', SPL_AUTH_SLOWDOWN_AFTER: '50', SPL_AUTH_LOCKOUT_AFTER: '60' },
      clock: () => new Date(Date.now() + offsetMs),
    });
    await r.organisation('dinkes');
  });
  afterAll(async () => r?.close());

  it('shows when a person’s secret expires, and refuses it as invalid_client after that, counted as a failure', async () => {
    offsetMs = 0;
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const me = (await r.app.inject({ url: '/v1/me', headers: bearer(person.token) })).json();
    expect(me.user.secrets).toHaveLength(1);
    const [secret] = me.user.secrets;
    expect(secret.clientId).toBe(person.clientId);
    expect(Date.parse(secret.expiresAt) - Date.parse(secret.createdAt)).toBe(30 * DAY);
    expect(JSON.stringify(me)).not.toMatch(/scrypt|hash/);

    offsetMs = 29 * DAY;
    expect((await tokenRequest(r.app, person.clientId, person.clientSecret)).statusCode).toBe(200);

    offsetMs = 30 * DAY + 60_000;
    const failuresBefore = await gauge(r, 'spl_registry_client_auth_failures_total');
    const expired = await tokenRequest(r.app, person.clientId, person.clientSecret);
    const wrong = await tokenRequest(r.app, person.clientId, 'spl_sk_not-the-secret-at-all');
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toEqual(wrong.json());
    expect(expired.json()).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
    expect(expired.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
    expect((await gauge(r, 'spl_registry_client_auth_failures_total')) - failuresBefore).toBe(2);
  });

  it('gives a rotated secret a fresh age, and the application’s record shows it', async () => {
    offsetMs = 0;
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const created = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations/dinkes/applications',
      headers: bearer(person.token),
      payload: { slug: 'rujukan', name: 'Rujukan', credentials: {} },
    });
    expect(created.statusCode).toBe(201);
    const { clientId, clientSecret } = created.json().credentials;
    const firstExpiry = created.json().application.secrets[0].expiresAt;
    expect(Date.parse(firstExpiry)).toBeGreaterThan(Date.now() + 29 * DAY);

    // 20 days on, the application rotates with no overlap: the new secret lives 30 days from now.
    offsetMs = 20 * DAY;
    const personToken = (await tokenRequest(r.app, person.clientId, person.clientSecret)).json().access_token;
    const rotated = await r.app.inject({
      method: 'POST',
      url: '/v1/applications/dinkes/rujukan/secrets',
      headers: bearer(personToken),
      payload: { overlapSeconds: 0 },
    });
    expect(rotated.statusCode).toBe(200);
    expect(Date.parse(rotated.json().expiresAt)).toBeGreaterThan(Date.now() + 49 * DAY);
    const shown = (
      await r.app.inject({ url: '/v1/applications/dinkes/rujukan', headers: bearer(personToken) })
    ).json();
    // Newest first. (The list is cut at the store's own clock, which this test does not move,
    // so the old secret, ended by the rotation 20 test days on, is still listed.)
    expect(shown.secrets[0].expiresAt).toBe(rotated.json().expiresAt);

    // Past the first secret's age, the new one works and the old one does not.
    offsetMs = 35 * DAY;
    expect((await tokenRequest(r.app, clientId, clientSecret)).statusCode).toBe(401);
    expect((await tokenRequest(r.app, clientId, rotated.json().clientSecret)).statusCode).toBe(200);
  });

  it('counts clients whose last secret expires within 14 days in spl_registry_client_secrets_expiring', async () => {
    offsetMs = 0;
    const fresh = await gauge(r, 'spl_registry_client_secrets_expiring');
    await r.person({ org: 'dinkes', roles: ['consumer'] });
    expect(await gauge(r, 'spl_registry_client_secrets_expiring')).toBe(fresh);
    // 17 days on, everything issued at 0 expires within 14 days; nothing has expired yet.
    offsetMs = 17 * DAY;
    expect(await gauge(r, 'spl_registry_client_secrets_expiring')).toBeGreaterThan(fresh);
  });

  it('never ages the bootstrap operator’s secret', async () => {
    offsetMs = 400 * DAY;
    expect((await tokenRequest(r.app, r.bootstrap.clientId, r.bootstrap.clientSecret)).statusCode).toBe(200);
    offsetMs = 0;
  });
});

describe('client secrets issued before the maximum age existed', () => {
  it('get one at start-up, a full maximum age from then, recorded in the audit trail', async () => {
    const r = await buildTestRegistry({ env: { SPL_SECRET_MAX_AGE_DAYS: '0' } });
    try {
      await r.organisation('dinkes');
      const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
      const before = (await r.app.inject({ url: '/v1/me', headers: bearer(person.token) })).json();
      expect(before.user.secrets[0].expiresAt).toBeNull();

      // The same store, started again with the rule on (as after an upgrade).
      const { applySecretMaxAgeAtStart } = await import('../../src/bootstrap.js');
      const config = { ...r.ctx.config, SPL_SECRET_MAX_AGE_DAYS: 90 };
      expect(await applySecretMaxAgeAtStart({ ...r.ctx, config })).toBe(1);
      expect(await applySecretMaxAgeAtStart({ ...r.ctx, config })).toBe(0);

      const after = (await r.app.inject({ url: '/v1/me', headers: bearer(person.token) })).json();
      expect(Date.parse(after.user.secrets[0].expiresAt)).toBeGreaterThan(Date.now() + 89 * DAY);
      const audit = await r.db.query<{ action: string; after: unknown }>(
        "SELECT action, after FROM audit_log WHERE action = 'client.secret.max-age'",
      );
      expect(audit).toEqual([{ action: 'client.secret.max-age', after: { secrets: 1, maxAgeDays: 90 } }]);
    } finally {
      await r.close();
    }
  });
});
