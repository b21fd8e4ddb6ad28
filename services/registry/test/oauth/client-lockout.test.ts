import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

// BKS 59(4)(d): repeated failed authentications are slowed, then locked out for a while.
describe('failed client authentication', () => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry({
      env: { SPL_AUTH_SLOWDOWN_AFTER: '2', SPL_AUTH_LOCKOUT_AFTER: '4', SPL_AUTH_LOCKOUT_SECONDS: '2' },
    });
  });
  afterAll(async () => r?.close());

  const attempt = (secret: string) =>
    r.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: r.bootstrap.clientId,
        client_secret: secret,
      }).toString(),
    });

  const counted = async (name: string) => {
    const res = await r.app.inject('/metrics');
    return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(res.body)?.[1]);
  };

  it('is slowed after a few failures, then locked out even for the right secret, then released', async () => {
    const failuresBefore = await counted('spl_registry_client_auth_failures_total');
    const lockedBefore = await counted('spl_registry_client_lockout_refusals_total');
    expect((await attempt('wrong-1')).statusCode).toBe(401);
    const started = Date.now();
    expect((await attempt('wrong-2')).statusCode).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    await attempt('wrong-3');
    await attempt('wrong-4');

    const locked = await attempt(r.bootstrap.clientSecret);
    expect(locked.statusCode).toBe(401);
    expect(locked.json().error).toBe('invalid_client');
    // BKS 59(6)(b): counted for the alerts on credential guessing (docs/operations.md#runbook).
    expect((await counted('spl_registry_client_auth_failures_total')) - failuresBefore).toBe(4);
    expect((await counted('spl_registry_client_lockout_refusals_total')) - lockedBefore).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await attempt(r.bootstrap.clientSecret)).statusCode).toBe(200);
  });

  it('keeps the registry answering other clients meanwhile', async () => {
    const res = await r.app.inject('/healthz');
    expect(res.statusCode).toBe(200);
  });
});
