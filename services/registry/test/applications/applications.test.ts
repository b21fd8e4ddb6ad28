import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApplication } from '../../src/applications/application-store.js';
import { actorOf, type Principal } from '../../src/auth/principal.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { call, countRows, expectProblem, requestToken } from '../subscriptions/api-fixtures.js';

/**
 *   dinkes: consumer Dewi (consumer), publisher Putu (publisher)
 *   bapenda: consumer Bayu (consumer)
 *   diskominfo: auditor Ani
 */
describe('consumer applications and their credentials', () => {
  let r: TestRegistry;
  let operator: string;
  let dewi: Awaited<ReturnType<TestRegistry['person']>>;
  let putu: string;
  let bayu: string;
  let ani: string;
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    r = await buildTestRegistry();
    operator = await r.operatorToken();
    await r.organisation('dinkes');
    await r.organisation('bapenda');
    dewi = await r.person({ org: 'dinkes', roles: ['consumer'], username: 'dewi' });
    putu = (await r.person({ org: 'dinkes', roles: ['publisher'], username: 'putu' })).token;
    bayu = (await r.person({ org: 'bapenda', roles: ['consumer'], username: 'bayu' })).token;
    ani = (await r.person({ org: 'diskominfo', roles: ['auditor'], username: 'ani' })).token;
    await call(r, operator, 'POST', '/v1/trusted-issuers', {
      slug: 'splp',
      issuer: 'https://splp.example.go.id',
      jwksUrl: 'https://splp.example.go.id/jwks',
      audience: 'spl',
      algorithms: ['ES256'],
      clientClaim: 'client_id',
    });
  });
  afterAll(async () => r?.close());

  it('creates an application with credentials whose secret is shown once and gets a token', async () => {
    const res = await call(r, dewi.token, 'POST', '/v1/organisations/dinkes/applications', {
      slug: 'rujukan',
      name: 'Sistem Rujukan',
      description: 'Rujukan pasien',
      credentials: { clientId: 'dinkes-rujukan' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { application, credentials } = res.json();
    expect(application).toMatchObject({
      org: 'dinkes',
      slug: 'rujukan',
      kind: 'credentials',
      clientIds: ['dinkes-rujukan'],
    });
    expect(credentials.clientId).toBe('dinkes-rujukan');
    secretsSeen.push(credentials.clientSecret);
    const token = await requestToken(r, 'dinkes-rujukan', credentials.clientSecret);
    expect(token.statusCode).toBe(200);
  });

  it('binds a federated application to a trusted issuer and its client claim value', async () => {
    const res = await call(r, putu, 'POST', '/v1/organisations/dinkes/applications', {
      slug: 'sehat-splp',
      name: 'Satu Sehat via SPLP',
      federated: { issuer: 'splp', clientClaimValue: 'kemenkes-satusehat' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().credentials).toBeUndefined();
    expect(res.json().application).toMatchObject({
      kind: 'federated',
      clientIds: [],
      federated: { issuer: 'splp', clientClaimValue: 'kemenkes-satusehat' },
    });
    const [row] = await r.db.query<{ external_client_id: string }>(
      "SELECT external_client_id FROM applications WHERE slug = 'sehat-splp'",
    );
    expect(row!.external_client_id).toBe('kemenkes-satusehat');
    // The same issuer and claim value cannot name two applications.
    const twice = await call(r, operator, 'POST', '/v1/organisations/bapenda/applications', {
      slug: 'copy',
      name: 'Copy',
      federated: { issuer: 'splp', clientClaimValue: 'kemenkes-satusehat' },
    });
    expectProblem(twice, 409, 'SPL_CONFLICT');
  });

  it.each([
    [
      'both credentials and federated',
      { credentials: {}, federated: { issuer: 'splp', clientClaimValue: 'x' } },
    ],
    ['neither credentials nor federated', {}],
    ['an unknown issuer', { federated: { issuer: 'nowhere', clientClaimValue: 'x' } }],
    ['an unknown field', { credentials: {}, clientSecret: 'mine' }],
    ['a secret in credentials', { credentials: { secret: 'mine' } }],
  ])('refuses %s with 400 and writes nothing', async (_name, extra) => {
    const before = [
      await countRows(r, 'applications'),
      await countRows(r, 'oauth_clients'),
      await countRows(r, 'audit_log'),
    ];
    const res = await call(r, dewi.token, 'POST', '/v1/organisations/dinkes/applications', {
      slug: 'bad',
      name: 'Bad',
      ...extra,
    });
    expectProblem(res, 400);
    expect([
      await countRows(r, 'applications'),
      await countRows(r, 'oauth_clients'),
      await countRows(r, 'audit_log'),
    ]).toEqual(before);
  });

  it('refuses another organisation and the wrong roles with 403', async () => {
    const body = { slug: 'x', name: 'X', credentials: {} };
    expectProblem(await call(r, bayu, 'POST', '/v1/organisations/dinkes/applications', body), 403);
    expectProblem(await call(r, ani, 'POST', '/v1/organisations/dinkes/applications', body), 403);
    expectProblem(await call(r, bayu, 'GET', '/v1/organisations/dinkes/applications'), 403);
    expectProblem(await call(r, bayu, 'GET', '/v1/applications/dinkes/rujukan'), 403);
    expectProblem(await call(r, bayu, 'PATCH', '/v1/applications/dinkes/rujukan', { name: 'Mine' }), 403);
    expectProblem(await call(r, bayu, 'POST', '/v1/applications/dinkes/rujukan/secrets', {}), 403);
    expectProblem(await call(r, ani, 'POST', '/v1/applications/dinkes/rujukan/secrets', {}), 403);
  });

  it('shows applications to their organisation, operators and auditors', async () => {
    for (const token of [dewi.token, putu, operator, ani]) {
      const list = await call(r, token, 'GET', '/v1/organisations/dinkes/applications');
      expect(list.statusCode).toBe(200);
      expect(list.json().map((a: { slug: string }) => a.slug)).toEqual(['rujukan', 'sehat-splp']);
    }
    expect((await call(r, ani, 'GET', '/v1/applications/dinkes/rujukan')).json().name).toBe('Sistem Rujukan');
  });

  it('patches an application and records nothing when nothing changes', async () => {
    const audit = await countRows(r, 'audit_log');
    const same = await call(r, dewi.token, 'PATCH', '/v1/applications/dinkes/rujukan', {
      name: 'Sistem Rujukan',
    });
    expect(same.statusCode).toBe(200);
    expect(await countRows(r, 'audit_log')).toBe(audit);
    const res = await call(r, dewi.token, 'PATCH', '/v1/applications/dinkes/rujukan', {
      name: 'Sistem Rujukan Pasien',
    });
    expect(res.json().name).toBe('Sistem Rujukan Pasien');
    expect(await countRows(r, 'audit_log')).toBe(audit + 1);
    expectProblem(
      await call(r, dewi.token, 'PATCH', '/v1/applications/dinkes/rujukan', {
        federated: { issuer: 'splp', clientClaimValue: 'y' },
      }),
      409,
      'SPL_CONFLICT',
    );
  });

  it('rotates with overlap: both secrets get tokens until the overlap ends; overlap 0 ends the old one', async () => {
    const first = secretsSeen[0]!;
    const rotated = await call(r, dewi.token, 'POST', '/v1/applications/dinkes/rujukan/secrets', {});
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const second = rotated.json().clientSecret as string;
    secretsSeen.push(second);
    expect(second).not.toBe(first);
    expect(Date.parse(rotated.json().previousExpireAt) - Date.now()).toBeGreaterThan(86_000_000);
    expect((await requestToken(r, 'dinkes-rujukan', first)).statusCode).toBe(200);
    expect((await requestToken(r, 'dinkes-rujukan', second)).statusCode).toBe(200);

    const now = await call(r, putu, 'POST', '/v1/applications/dinkes/rujukan/secrets', { overlapSeconds: 0 });
    expect(now.statusCode).toBe(200);
    const third = now.json().clientSecret as string;
    secretsSeen.push(third);
    for (const old of [first, second]) {
      const res = await requestToken(r, 'dinkes-rujukan', old);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
    }
    expect((await requestToken(r, 'dinkes-rujukan', third)).statusCode).toBe(200);
    await r.redis.del(r.ctx.keys.authFailures('dinkes-rujukan'));
  });

  it('rotates with the default overlap when no body is sent (the CLI sends none)', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/applications/dinkes/rujukan/secrets',
      headers: { authorization: `Bearer ${dewi.token}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    secretsSeen.push(res.json().clientSecret);
    expect(Date.parse(res.json().previousExpireAt) - Date.now()).toBeGreaterThan(86_000_000);
  });

  it('refuses to rotate a federated application (its credentials live at its issuer)', async () => {
    expectProblem(
      await call(r, putu, 'POST', '/v1/applications/dinkes/sehat-splp/secrets', {}),
      409,
      'SPL_CONFLICT',
    );
  });

  it("lets a person rotate their own personal client's secret, and refuses the bootstrap client", async () => {
    const res = await call(r, dewi.token, 'POST', '/v1/me/secret', { overlapSeconds: 0 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().clientId).toBe(dewi.clientId);
    secretsSeen.push(res.json().clientSecret, dewi.clientSecret);
    expect((await requestToken(r, dewi.clientId, dewi.clientSecret)).statusCode).toBe(401);
    const fresh = await requestToken(r, dewi.clientId, res.json().clientSecret);
    expect(fresh.statusCode).toBe(200);
    // One session per person (BKS 59(5)): the new token is dewi's session from now on.
    dewi = { ...dewi, token: fresh.json().access_token };
    await r.redis.del(r.ctx.keys.authFailures(dewi.clientId));
    expectProblem(await call(r, operator, 'POST', '/v1/me/secret', {}), 403, 'SPL_PERSON_REQUIRED');
  });

  it('applies an application declaratively: idempotent, and rotates to a provided secret once', async () => {
    const principal: Principal = { clientId: 'cli', org: 'bapenda', roles: ['consumer'] };
    const input = {
      org: 'bapenda',
      slug: 'pajak',
      name: 'Pajak Daerah',
      credentials: { clientId: 'bapenda-pajak' },
      secret: 'provided-secret-0123456789abcdef',
    };
    const apply = (i = input) =>
      r.ctx.mutate(actorOf(principal), (tx, audit) => applyApplication(tx, audit, principal, i, r.ctx));
    const created = await apply();
    expect(created.result).toBe('created');
    expect(created.credentials).toBeUndefined(); // the file holds the secret; nothing to hand back
    expect((await requestToken(r, 'bapenda-pajak', input.secret)).statusCode).toBe(200);
    const audit = await countRows(r, 'audit_log');
    expect((await apply()).result).toBe('unchanged');
    expect(await countRows(r, 'audit_log')).toBe(audit);
    const next = { ...input, secret: 'provided-secret-rotated-9876543210' };
    expect((await apply(next)).result).toBe('updated');
    expect((await apply(next)).result).toBe('unchanged');
    expect((await requestToken(r, 'bapenda-pajak', next.secret)).statusCode).toBe(200);
    expect((await requestToken(r, 'bapenda-pajak', input.secret)).statusCode).toBe(200); // overlap
    secretsSeen.push(input.secret, next.secret);

    const generated = await apply({
      ...input,
      slug: 'retribusi',
      credentials: { clientId: 'bapenda-retribusi' },
      secret: undefined as never,
    });
    expect(generated.credentials?.clientSecret).toMatch(/^spl_sk_/);
    secretsSeen.push(generated.credentials!.clientSecret);
    await expect(
      r.ctx.mutate(actorOf(principal), (tx, audit) =>
        applyApplication(tx, audit, principal, { ...input, org: 'dinkes' }, r.ctx),
      ),
    ).rejects.toMatchObject({ code: 'SPL_FORBIDDEN' });
  });

  it('never shows a secret or its hash again: not in later answers, not in the audit trail', async () => {
    expect(secretsSeen.length).toBeGreaterThanOrEqual(6);
    const later = [
      await call(r, operator, 'GET', '/v1/organisations/dinkes/applications'),
      await call(r, operator, 'GET', '/v1/organisations/bapenda/applications'),
      await call(r, operator, 'GET', '/v1/applications/dinkes/rujukan'),
      await call(r, operator, 'GET', '/v1/users'),
      await call(r, dewi.token, 'GET', '/v1/me'),
    ];
    const hashes = (await r.db.query<{ hash: string }>('SELECT hash FROM client_secrets')).map((h) => h.hash);
    const audit = JSON.stringify(await r.db.query('SELECT actor, before, after FROM audit_log'));
    for (const res of later) {
      expect(res.statusCode).toBe(200);
      for (const s of [...secretsSeen, ...hashes]) expect(res.body).not.toContain(s);
    }
    for (const s of [...secretsSeen, ...hashes]) expect(audit).not.toContain(s);
    expect(audit).not.toContain('scrypt$');
  });
});
