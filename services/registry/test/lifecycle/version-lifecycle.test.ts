import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createApi, createVersion } from '../apis/fixtures.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

type Person = { token: string; userId: string };

describe.each(['postgres', 'pglite'] as const)('version lifecycle (%s)', (store) => {
  let r: TestRegistry;
  let publisher: Person;
  let otherPublisher: Person;
  let operator: Person;
  let reviewer: Person;
  let consumer: Person;
  let auditor: Person;

  beforeAll(async () => {
    r = await buildTestRegistry({ store });
    await r.organisation('dpmptsp');
    await r.organisation('dinkes');
    publisher = await r.person({ org: 'dpmptsp', roles: ['publisher'] });
    otherPublisher = await r.person({ org: 'dinkes', roles: ['publisher'] });
    operator = await r.person({ org: 'diskominfo', roles: ['operator'] });
    reviewer = await r.person({ org: 'diskominfo', roles: ['reviewer'] });
    consumer = await r.person({ org: 'dinkes', roles: ['consumer'] });
    auditor = await r.person({ org: 'diskominfo', roles: ['auditor'] });
    await createApi(r, 'dpmptsp', 'perizinan');
  });
  afterAll(async () => r?.close());

  const act = (version: string, token: string, action: string, extra: Record<string, unknown> = {}) =>
    r.app.inject({
      method: 'POST',
      url: `/v1/apis/dpmptsp/perizinan/versions/${version}/transitions`,
      headers: bearer(token),
      payload: { action, ...extra },
    });
  const expectState = async (version: string, token: string, action: string, state: string) => {
    const res = await act(version, token, action);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().state).toBe(state);
  };

  it('walks draft → published → deprecated → retired with the right people, recording each of them', async () => {
    await createVersion(r, 'dpmptsp', 'perizinan', 'v1');
    await expectState('v1', publisher.token, 'submit', 'submitted');
    await expectState('v1', operator.token, 'approve', 'kelaikan_operasi');
    await expectState('v1', reviewer.token, 'approve', 'kelaikan_keamanan');
    await expectState('v1', publisher.token, 'publish', 'published');
    const dep = await act('v1', publisher.token, 'deprecate', { sunsetAt: '2031-01-01T00:00:00.000Z' });
    expect(dep.json()).toMatchObject({ state: 'deprecated', sunsetAt: '2031-01-01T00:00:00.000Z' });
    await expectState('v1', publisher.token, 'retire', 'retired');

    const history = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v1/transitions',
      headers: bearer(auditor.token),
    });
    expect(history.statusCode).toBe(200);
    expect(history.json().map((t: { action: string; to: string }) => `${t.action}:${t.to}`)).toEqual([
      'submit:submitted',
      'approve:kelaikan_operasi',
      'approve:kelaikan_keamanan',
      'publish:published',
      'deprecate:deprecated',
      'retire:retired',
    ]);
    expect(history.json()[1].userId).toBe(operator.userId);
    expect(history.json()[2].userId).toBe(reviewer.userId);
    const audited = await r.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE entity_id = 'dpmptsp/perizinan/v1' ORDER BY seq",
    );
    expect(audited.map((a) => a.action)).toEqual([
      'api_version.create',
      'api_version.submit',
      'api_version.approve',
      'api_version.approve',
      'api_version.publish',
      'api_version.deprecate',
      'api_version.retire',
    ]);
  });

  it('refuses each transition to the wrong role with 403 and leaves the state as it was', async () => {
    await createVersion(r, 'dpmptsp', 'perizinan', 'v2');
    // A consumer makes no transition at all, even in the owning organisation (the route's roles).
    const ownConsumer = await r.person({ org: 'dpmptsp', roles: ['consumer'] });
    for (const who of [consumer, ownConsumer])
      expect((await act('v2', who.token, 'submit')).statusCode).toBe(403);
    // Another organisation cannot even see a draft: for it the version does not exist.
    expect((await act('v2', otherPublisher.token, 'submit')).statusCode).toBe(404);
    await expectState('v2', publisher.token, 'submit', 'submitted');
    // kelaikan operasi: the operator role (default), not the publisher nor the reviewer
    for (const who of [publisher, reviewer])
      expect((await act('v2', who.token, 'approve')).json().code).toBe('SPL_FORBIDDEN');
    await expectState('v2', operator.token, 'approve', 'kelaikan_operasi');
    // kelaikan keamanan: the reviewer role (default), not the operator nor the publisher
    for (const who of [operator, publisher])
      expect((await act('v2', who.token, 'approve')).statusCode).toBe(403);
    expect((await act('v2', operator.token, 'reject', { reason: 'no' })).statusCode).toBe(403);
    await expectState('v2', reviewer.token, 'approve', 'kelaikan_keamanan');
    // publish: the owner's publisher or an operator, not the reviewer nor another PD
    expect((await act('v2', reviewer.token, 'publish')).statusCode).toBe(403);
    await expectState('v2', publisher.token, 'publish', 'published');
    // retire straight from published: operators only
    expect((await act('v2', publisher.token, 'retire')).statusCode).toBe(403);
    // Published, the version is visible to everyone, and still not theirs to change.
    expect((await act('v2', otherPublisher.token, 'deprecate')).statusCode).toBe(403);
    expect((await act('v2', consumer.token, 'deprecate')).statusCode).toBe(403);
    await expectState('v2', operator.token, 'retire', 'retired');
  });

  it('lets the shared bootstrap client not approve: SPL_PERSON_REQUIRED', async () => {
    await createVersion(r, 'dpmptsp', 'perizinan', 'v3');
    await expectState('v3', publisher.token, 'submit', 'submitted');
    const res = await act('v3', await r.operatorToken(), 'approve');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('SPL_PERSON_REQUIRED');
    const reject = await act('v3', await r.operatorToken(), 'reject', { reason: 'x' });
    expect(reject.json().code).toBe('SPL_PERSON_REQUIRED');
  });

  it('sends a rejected submission back to draft with the reviewer’s reason, which is required', async () => {
    // v3 is submitted (previous test)
    const noReason = await act('v3', operator.token, 'reject');
    expect(noReason.statusCode).toBe(400);
    const res = await act('v3', operator.token, 'reject', {
      reason: 'Lengkapi kontak dan jadwal pemutakhiran',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      state: 'draft',
      reviewNote: 'Lengkapi kontak dan jadwal pemutakhiran',
    });
    const history = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v3/transitions',
      headers: bearer(publisher.token),
    });
    expect(history.json().at(-1)).toMatchObject({
      action: 'reject',
      from: 'submitted',
      to: 'draft',
      reason: 'Lengkapi kontak dan jadwal pemutakhiran',
      userId: operator.userId,
    });
    // and at the second gate, by the reviewer
    await expectState('v3', publisher.token, 'submit', 'submitted');
    await expectState('v3', operator.token, 'approve', 'kelaikan_operasi');
    const second = await act('v3', reviewer.token, 'reject', {
      reason: 'TLS upstream belum memenuhi BKS 60(3)(a)',
    });
    expect(second.json()).toMatchObject({
      state: 'draft',
      reviewNote: 'TLS upstream belum memenuhi BKS 60(3)(a)',
    });
  });

  it('answers a transition from the wrong state with 409 naming the state and what it allows', async () => {
    // v3 is a draft again
    const res = await act('v3', publisher.token, 'publish');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'SPL_INVALID_TRANSITION',
      state: 'draft',
      allowedActions: ['submit'],
    });
    expect(res.json().detail).toMatch(/is draft.*allowed: submit/);
    const retired = await act('v1', operator.token, 'submit');
    expect(retired.json()).toMatchObject({
      code: 'SPL_INVALID_TRANSITION',
      state: 'retired',
      allowedActions: [],
    });
  });

  it('lets a draft be edited and nothing past it (409 SPL_IMMUTABLE)', async () => {
    const patch = (version: string, payload: unknown) =>
      r.app.inject({
        method: 'PATCH',
        url: `/v1/apis/dpmptsp/perizinan/versions/${version}`,
        headers: bearer(publisher.token),
        payload: payload as object,
      });
    const edited = await patch('v3', { plan: { requestsPerMinute: 120 } });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().plan).toEqual({ requestsPerMinute: 120, bodyLimitBytes: 1024 * 1024 });
    const audits = await countRows(r, 'audit_log');
    expect((await patch('v3', { plan: { requestsPerMinute: 120 } })).statusCode).toBe(200);
    expect(await countRows(r, 'audit_log')).toBe(audits); // a change that changes nothing records nothing
    await expectState('v3', publisher.token, 'submit', 'submitted');
    const frozen = await patch('v3', { plan: { requestsPerMinute: 60 } });
    expect(frozen.statusCode).toBe(409);
    expect(frozen.json().code).toBe('SPL_IMMUTABLE');
    const retired = await patch('v2', { upstream: { urls: ['https://x.go.id'] } });
    expect(retired.json().code, retired.body).toBe('SPL_IMMUTABLE');
  });

  it('shows drafts and reviews only to the owner, operators, reviewers and auditors', async () => {
    // v3 submitted, v2 retired, v1 retired; publish v4 for the public view
    await createVersion(r, 'dpmptsp', 'perizinan', 'v4');
    for (const [token, action] of [
      [publisher.token, 'submit'],
      [operator.token, 'approve'],
      [reviewer.token, 'approve'],
      [publisher.token, 'publish'],
    ] as const)
      expect((await act('v4', token, action)).statusCode).toBe(200);
    const seen = async (token: string) =>
      (await r.app.inject({ url: '/v1/apis/dpmptsp/perizinan/versions', headers: bearer(token) }))
        .json()
        .map((v: { version: string }) => v.version);
    expect(await seen(consumer.token)).toEqual(['v4']);
    expect(await seen(otherPublisher.token)).toEqual(['v4']);
    for (const who of [publisher, operator, reviewer, auditor])
      expect(await seen(who.token)).toEqual(expect.arrayContaining(['v1', 'v2', 'v3', 'v4']));
    const draft = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v3',
      headers: bearer(consumer.token),
    });
    expect(draft.statusCode).toBe(404);
    const doc = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v3/openapi',
      headers: bearer(consumer.token),
    });
    expect(doc.statusCode).toBe(404);
    const published = await r.app.inject({
      url: '/v1/apis/dpmptsp/perizinan/versions/v4/openapi',
      headers: bearer(consumer.token),
    });
    expect(published.statusCode).toBe(200);
  });
});

describe('configurable approver roles (DIGEST §8.1)', () => {
  let r: TestRegistry;
  afterAll(async () => r?.close());

  it('lets an operator grant kelaikan keamanan when the deployment says so, and no longer a reviewer', async () => {
    r = await buildTestRegistry({ env: { SPL_APPROVER_KELAIKAN_KEAMANAN: 'operator' } });
    await r.organisation('dpmptsp');
    const publisher = await r.person({ org: 'dpmptsp', roles: ['publisher'] });
    const operator = await r.person({ org: 'diskominfo', roles: ['operator'] });
    const reviewer = await r.person({ org: 'diskominfo', roles: ['reviewer'] });
    await createApi(r, 'dpmptsp', 'perizinan');
    await createVersion(r, 'dpmptsp', 'perizinan', 'v1');
    const act = (token: string, action: string) =>
      r.app.inject({
        method: 'POST',
        url: '/v1/apis/dpmptsp/perizinan/versions/v1/transitions',
        headers: bearer(token),
        payload: { action },
      });
    expect((await act(publisher.token, 'submit')).statusCode).toBe(200);
    expect((await act(operator.token, 'approve')).json().state).toBe('kelaikan_operasi');
    expect((await act(reviewer.token, 'approve')).statusCode).toBe(403);
    const res = await act(operator.token, 'approve');
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('kelaikan_keamanan');
  });
});
