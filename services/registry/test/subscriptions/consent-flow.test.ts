import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf, type Principal } from '../../src/auth/principal.js';
import { applySubscription } from '../../src/subscriptions/subscription-store.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { call, countRows, expectProblem, insertApiVersion } from './api-fixtures.js';

/**
 *   disdukcapil ── owns kependudukan v1 (published), v2 (draft), v0 (retired), v9 (deprecated)
 *     └ Sari (publisher, person)
 *   dinkes ── application rujukan (client dinkes-rujukan)
 *     └ Dewi (consumer, person)
 *   bapenda
 *     └ Bayu (publisher, person) — the wrong organisation for everything here
 *   diskominfo (the hub)
 *     ├ Rina (operator, person)   ├ Ani (auditor)   ├ Rudi (reviewer)
 *     └ bootstrap client (operator, no person)
 */
describe.each(['postgres', 'pglite'] as const)('data-owner consent to subscriptions (%s)', (store) => {
  let r: TestRegistry;
  let bootstrap: string;
  let sari: Awaited<ReturnType<TestRegistry['person']>>;
  let dewi: string;
  let bayu: string;
  let rina: Awaited<ReturnType<TestRegistry['person']>>;
  let ani: string;
  let rudi: string;
  let appClient: string;
  let subId: string;
  const request = {
    application: 'dinkes/rujukan',
    api: 'disdukcapil/kependudukan',
    version: 'v1',
    purpose: 'Verifikasi identitas pasien rujukan antar fasilitas kesehatan',
  };

  beforeAll(async () => {
    r = await buildTestRegistry({ store });
    bootstrap = await r.operatorToken();
    for (const org of ['disdukcapil', 'dinkes', 'bapenda']) await r.organisation(org);
    sari = await r.person({ org: 'disdukcapil', roles: ['publisher'], username: 'sari' });
    dewi = (await r.person({ org: 'dinkes', roles: ['consumer'], username: 'dewi' })).token;
    bayu = (await r.person({ org: 'bapenda', roles: ['publisher', 'consumer'], username: 'bayu' })).token;
    rina = await r.person({ org: 'diskominfo', roles: ['operator'], username: 'rina' });
    ani = (await r.person({ org: 'diskominfo', roles: ['auditor'], username: 'ani' })).token;
    rudi = (await r.person({ org: 'diskominfo', roles: ['reviewer'], username: 'rudi' })).token;
    await insertApiVersion(r, { org: 'disdukcapil', api: 'kependudukan', version: 'v1' });
    await insertApiVersion(r, { org: 'disdukcapil', api: 'kependudukan', version: 'v2', state: 'draft' });
    await insertApiVersion(r, { org: 'disdukcapil', api: 'kependudukan', version: 'v0', state: 'retired' });
    await insertApiVersion(r, {
      org: 'disdukcapil',
      api: 'kependudukan',
      version: 'v9',
      state: 'deprecated',
    });
    const app = await call(r, dewi, 'POST', '/v1/organisations/dinkes/applications', {
      slug: 'rujukan',
      name: 'Sistem Rujukan',
      credentials: { clientId: 'dinkes-rujukan' },
    });
    appClient = await r.token('dinkes-rujukan', app.json().credentials.clientSecret);
  });
  afterAll(async () => r?.close());

  const decide = (token: string, decision: string, reason?: string) =>
    call(r, token, 'POST', `/v1/subscriptions/${subId}/decision`, {
      decision,
      ...(reason ? { reason } : {}),
    });

  it('lets a consumer of the application’s organisation ask, stating a purpose', async () => {
    const res = await call(r, dewi, 'POST', '/v1/subscriptions', request);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ ...request, state: 'pending' });
    expect(res.json().decidedBy).toBeUndefined();
    subId = res.json().id;
  });

  it('refuses a second live request for the same application and version with 409', async () => {
    expectProblem(await call(r, appClient, 'POST', '/v1/subscriptions', request), 409, 'SPL_CONFLICT');
  });

  it('refuses requests for another organisation’s application, and by roles that cannot ask, with 403', async () => {
    const v9 = { ...request, version: 'v9' };
    expectProblem(await call(r, bayu, 'POST', '/v1/subscriptions', v9), 403, 'SPL_FORBIDDEN');
    expectProblem(await call(r, sari.token, 'POST', '/v1/subscriptions', v9), 403, 'SPL_FORBIDDEN');
    expectProblem(await call(r, ani, 'POST', '/v1/subscriptions', v9), 403, 'SPL_FORBIDDEN');
    expectProblem(await call(r, rudi, 'POST', '/v1/subscriptions', v9), 403, 'SPL_FORBIDDEN');
  });

  it('answers a draft, retired or unknown version as not found', async () => {
    for (const version of ['v2', 'v0', 'v7'])
      expectProblem(
        await call(r, dewi, 'POST', '/v1/subscriptions', { ...request, version }),
        404,
        'SPL_NOT_FOUND',
      );
  });

  it.each([
    ['a missing purpose', { purpose: undefined }],
    ['a purpose under 10 characters', { purpose: 'data' }],
    ['a purpose over 1000 characters', { purpose: 'x'.repeat(1001) }],
    ['an unknown field', { approved: true }],
    ['a malformed application reference', { application: 'rujukan' }],
  ])('refuses %s with 400 and writes nothing', async (_name, change) => {
    const before = [await countRows(r, 'subscriptions'), await countRows(r, 'audit_log')];
    const res = await call(r, dewi, 'POST', '/v1/subscriptions', { ...request, version: 'v9', ...change });
    expectProblem(res, 400, 'SPL_VALIDATION');
    expect([await countRows(r, 'subscriptions'), await countRows(r, 'audit_log')]).toEqual(before);
  });

  it('refuses malformed JSON and a wrong content type with problem+json and writes nothing', async () => {
    const before = await countRows(r, 'subscriptions');
    const headers = { authorization: `Bearer ${dewi}` };
    const malformed = await r.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"application": "dinkes/rujukan",',
    });
    expectProblem(malformed, 400, 'SPL_MALFORMED_BODY');
    const form = await r.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'application=dinkes/rujukan',
    });
    expectProblem(form, 415, 'SPL_UNSUPPORTED_MEDIA_TYPE');
    expect(await countRows(r, 'subscriptions')).toBe(before);
  });

  it('refuses consent from everyone but the owner’s people, and from the bootstrap client as not a person', async () => {
    expectProblem(await decide(dewi, 'approve'), 403, 'SPL_FORBIDDEN');
    expectProblem(await decide(appClient, 'approve'), 403, 'SPL_FORBIDDEN');
    // Another organisation does not even learn that the request exists.
    expectProblem(await decide(bayu, 'approve'), 404, 'SPL_NOT_FOUND');
    expectProblem(await decide(ani, 'approve'), 403, 'SPL_FORBIDDEN');
    expectProblem(await decide(rudi, 'approve'), 403, 'SPL_FORBIDDEN');
    expectProblem(await decide(bayu, 'reject', 'bukan urusan kami'), 404, 'SPL_NOT_FOUND');
    expectProblem(await decide(bootstrap, 'approve'), 403, 'SPL_PERSON_REQUIRED');
    expectProblem(await decide(bayu, 'revoke'), 404, 'SPL_NOT_FOUND');
    expect((await call(r, rina.token, 'GET', `/v1/subscriptions/${subId}`)).json().state).toBe('pending');
  });

  it('records the named publisher of the owning organisation who approves', async () => {
    const res = await decide(sari.token, 'approve', 'sesuai perjanjian kerja sama');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      state: 'approved',
      decidedBy: { id: sari.userId, username: 'sari' },
      reason: 'sesuai perjanjian kerja sama',
    });
    expect(res.json().decidedAt).toBeTruthy();
    const [row] = await r.db.query<{ decided_by_user: string }>(
      'SELECT decided_by_user FROM subscriptions WHERE id = $1',
      [subId],
    );
    expect(row!.decided_by_user).toBe(sari.userId);
    const [audit] = await r.db.query<{
      action: string;
      actor: { userId: string };
      before: unknown;
      after: unknown;
    }>(
      "SELECT action, actor, before, after FROM audit_log WHERE entity_type = 'subscription' ORDER BY seq DESC LIMIT 1",
    );
    expect(audit).toMatchObject({
      action: 'subscription.approve',
      actor: { userId: sari.userId },
      before: { state: 'pending' },
      after: { state: 'approved', decidedBy: 'sari' },
    });
  });

  it('answers a decision the state does not allow with 409 SPL_INVALID_TRANSITION', async () => {
    expectProblem(await decide(sari.token, 'approve'), 409, 'SPL_INVALID_TRANSITION');
    expectProblem(await decide(sari.token, 'resume'), 409, 'SPL_INVALID_TRANSITION');
    expectProblem(await decide(sari.token, 'reject', 'terlambat'), 409, 'SPL_INVALID_TRANSITION');
  });

  it('lets the owner suspend, refuses the consumer suspending, and an operator person resume', async () => {
    expectProblem(await decide(dewi, 'suspend'), 403, 'SPL_FORBIDDEN');
    expect((await decide(sari.token, 'suspend', 'audit keamanan berjalan')).json().state).toBe('suspended');
    expectProblem(await decide(bootstrap, 'resume'), 403, 'SPL_PERSON_REQUIRED');
    const resumed = await decide(rina.token, 'resume');
    expect(resumed.json()).toMatchObject({ state: 'approved', decidedBy: { username: 'rina' } });
  });

  it('lets the application’s organisation withdraw its own access by revoking', async () => {
    const res = await decide(dewi, 'revoke', 'sistem rujukan lama dihentikan');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().state).toBe('revoked');
    expectProblem(await decide(sari.token, 'revoke'), 409, 'SPL_INVALID_TRANSITION');
  });

  it('needs a reason to reject, and records it', async () => {
    const asked = await call(r, dewi, 'POST', '/v1/subscriptions', { ...request, version: 'v9' });
    expect(asked.statusCode, asked.body).toBe(201);
    subId = asked.json().id;
    const before = await countRows(r, 'audit_log');
    expectProblem(await decide(sari.token, 'reject'), 400, 'SPL_VALIDATION');
    expect(await countRows(r, 'audit_log')).toBe(before);
    const res = await decide(sari.token, 'reject', 'tujuan tidak sesuai kewenangan');
    expect(res.json()).toMatchObject({ state: 'rejected', reason: 'tujuan tidak sesuai kewenangan' });
    // A rejected request is history: the application may ask again.
    const again = await call(r, dewi, 'POST', '/v1/subscriptions', { ...request, version: 'v9' });
    expect(again.statusCode).toBe(201);
    subId = again.json().id;
  });

  it('shows each caller only what concerns its organisation', async () => {
    const ids = async (token: string, query = '') =>
      (await call(r, token, 'GET', `/v1/subscriptions${query}`)).json().map((s: { id: string }) => s.id);
    const all = await ids(ani);
    expect(all).toHaveLength(3);
    expect(await ids(rina.token)).toEqual(all);
    expect(await ids(dewi)).toEqual(all);
    expect(await ids(sari.token)).toEqual(all);
    expect(await ids(bayu)).toEqual([]);
    expect(await ids(dewi, '?state=pending')).toEqual([subId]);
    expect(
      await ids(ani, '?application=dinkes/rujukan&api=disdukcapil/kependudukan&state=revoked'),
    ).toHaveLength(1);
    expectProblem(await call(r, bayu, 'GET', `/v1/subscriptions/${subId}`), 404, 'SPL_NOT_FOUND');
    expect((await call(r, appClient, 'GET', `/v1/subscriptions/${subId}`)).json().state).toBe('pending');
    expectProblem(await call(r, ani, 'GET', '/v1/subscriptions?state=granted'), 400);
  });

  it('applies a subscription only as far as the caller may: the bootstrap client leaves consent pending', async () => {
    await r.db.query(
      "UPDATE subscriptions SET state = 'revoked' WHERE state IN ('pending', 'approved', 'suspended')",
    );
    const bootstrapPrincipal: Principal = {
      clientId: r.bootstrap.clientId,
      org: 'diskominfo',
      roles: ['operator'],
    };
    const input = {
      ...request,
      purpose: 'Verifikasi identitas pasien untuk rujukan daring',
      state: 'approved' as const,
    };
    const asBootstrap = await r.ctx.mutate(actorOf(bootstrapPrincipal), (tx, audit) =>
      applySubscription(tx, audit, bootstrapPrincipal, input, r.ctx),
    );
    expect(asBootstrap).toMatchObject({
      result: 'created',
      did: ['request'],
      subscription: { state: 'pending' },
    });
    expect(asBootstrap.pending).toMatch(/named person/);

    const rinaPrincipal: Principal = {
      clientId: rina.clientId,
      org: 'diskominfo',
      roles: ['operator'],
      userId: rina.userId,
    };
    const apply = () =>
      r.ctx.mutate(actorOf(rinaPrincipal), (tx, audit) =>
        applySubscription(tx, audit, rinaPrincipal, input, r.ctx),
      );
    expect(await apply()).toMatchObject({
      result: 'transitioned',
      did: ['approve'],
      subscription: { state: 'approved' },
    });
    const audit = await countRows(r, 'audit_log');
    expect(await apply()).toMatchObject({ result: 'unchanged', did: [] });
    expect(await countRows(r, 'audit_log')).toBe(audit);
  });
});
