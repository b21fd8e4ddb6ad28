import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry, tokenRequest } from '../helpers/test-registry.js';

// BKS 59(10): a person's data exported, or erased, on request.
describe('a person’s data on request', () => {
  let r: TestRegistry;
  let operator: string;
  beforeAll(async () => {
    r = await buildTestRegistry();
    await r.organisation('dinkes');
    operator = (await r.person({ org: 'diskominfo', roles: ['operator'], username: 'op-siti' })).token;
  });
  afterAll(async () => r?.close());

  it('exports profile, organisation, clients, secret metadata and the audit records of the person, never a hash', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'], username: 'budi.santoso' });
    const rotated = await r.app.inject({
      method: 'POST',
      url: '/v1/me/secret',
      headers: bearer(person.token),
      payload: { overlapSeconds: 0 },
    });
    expect(rotated.statusCode).toBe(200);

    const res = await r.app.inject({ url: '/v1/me/data', headers: bearer(person.token) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const data = res.json();
    expect(data.person).toMatchObject({ id: person.userId, username: 'budi.santoso', org: 'dinkes' });
    expect(data.person.name).toBe('Person budi.santoso');
    expect(data.organisation).toEqual({
      slug: 'dinkes',
      name: 'Organisation dinkes',
      kind: 'perangkat-daerah',
    });
    expect(data.clients).toEqual([
      expect.objectContaining({
        clientId: person.clientId,
        kind: 'personal',
        roles: ['consumer'],
        disabled: false,
      }),
    ]);
    // The first secret (ended by the rotation) and the current one: metadata only.
    expect(data.secrets).toHaveLength(2);
    expect(Object.keys(data.secrets[0]).sort()).toEqual(['clientId', 'createdAt', 'expiresAt']);
    const actions = data.audit.map((a: { action: string }) => a.action);
    expect(actions).toEqual(['user.create', 'client.secret.rotate']);
    expect(data.audit[1].actor.userId).toBe(person.userId);
    const text = res.body;
    expect(text).not.toMatch(/scrypt|clientSecret|client_secret/);
    expect(text).not.toContain(rotated.json().clientSecret);
  });

  it('answers 403 SPL_PERSON_REQUIRED to a client with no person behind it', async () => {
    const res = await r.app.inject({ url: '/v1/me/data', headers: bearer(await r.operatorToken()) });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('SPL_PERSON_REQUIRED');
  });

  it('erases a person: pseudonymised, secret and token dead, recorded, the audit chain still verifying', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'], username: 'ani.wijaya' });
    const res = await r.app.inject({
      method: 'POST',
      url: `/v1/users/${person.userId}/erasure`,
      headers: bearer(operator),
    });
    expect(res.statusCode).toBe(200);
    const erased = res.json();
    expect(erased).toMatchObject({ id: person.userId, name: 'erased person', disabled: true, secrets: [] });
    expect(erased.username).toMatch(/^erased-[0-9a-f]{12}$/);
    expect(erased.email).toBeUndefined();
    expect(erased.erasedAt).toEqual(expect.any(String));
    // The generated client id began with the username: renamed too.
    expect(person.clientId).toMatch(/^ani\.wijaya-/);
    expect(erased.clientIds).toEqual([erased.username]);

    const listed = (await r.app.inject({ url: '/v1/users', headers: bearer(operator) })).json();
    expect(JSON.stringify(listed)).not.toContain('ani.wijaya');

    // The token they held and their secret no longer work.
    const refused = await r.app.inject({ url: '/v1/me', headers: bearer(person.token) });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('SPL_UNAUTHENTICATED');
    const token = await tokenRequest(r.app, person.clientId, person.clientSecret);
    expect(token.statusCode).toBe(401);
    expect(token.json().error).toBe('invalid_client');

    // The erasure is an audit record naming only the id and the pseudonym; older records stay.
    const audit = (
      await r.app.inject({ url: '/v1/audit?entityType=user&limit=1000', headers: bearer(operator) })
    ).json().records;
    const erasure = audit.find((a: { action: string }) => a.action === 'user.erase');
    expect(erasure).toMatchObject({
      entityId: erased.username,
      after: { id: person.userId, username: erased.username, clientIds: [erased.username] },
    });
    expect(JSON.stringify(erasure)).not.toContain('ani.wijaya');
    const verify = await r.app.inject({ url: '/v1/audit/verify', headers: bearer(operator) });
    expect(verify.json().ok).toBe(true);
  });

  it('answers 409 to a second erasure, 404 to an unknown person, 403 to a non-operator', async () => {
    const person = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const erase = (id: string, token: string) =>
      r.app.inject({ method: 'POST', url: `/v1/users/${id}/erasure`, headers: bearer(token) });
    expect((await erase(person.userId, operator)).statusCode).toBe(200);
    const again = await erase(person.userId, operator);
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json().code).toBe('SPL_CONFLICT');
    const unknown = await erase('00000000-0000-0000-0000-000000000000', operator);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('SPL_NOT_FOUND');
    const consumer = await r.person({ org: 'dinkes', roles: ['consumer'] });
    const other = await r.person({ org: 'dinkes', roles: ['consumer'] });
    expect((await erase(other.userId, consumer.token)).statusCode).toBe(403);
  });
});
