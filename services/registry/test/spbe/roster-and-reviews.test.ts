import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { type Gatekeepers, gatekeepers, send } from './spbe-fixtures.js';

describe('the SPBE roster and reviews', () => {
  let r: TestRegistry;
  let people: Gatekeepers;
  beforeAll(async () => {
    r = await buildTestRegistry();
    people = await gatekeepers(r);
    await r.organisation('pd-a');
    await r.organisation('pd-b');
    await r.organisation('pusat', 'instansi-pusat');
  });
  afterAll(() => r?.close());

  const audit = async (entityType: string) =>
    (await send(r, people.operator, { method: 'GET', url: `/v1/audit?entityType=${entityType}` })).json()
      .records as Array<{ action: string; entityId: string; before: unknown; after: unknown }>;

  it('takes Perangkat Daerah only, names the others, and records each change in the audit trail', async () => {
    const notPd = await r.app.inject({
      method: 'PUT',
      url: '/v1/spbe/roster',
      headers: bearer(people.operator),
      payload: { organisations: ['pd-a', 'pusat'] },
    });
    expect(notPd.statusCode).toBe(400);
    expect(notPd.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(notPd.json()).toMatchObject({
      code: 'SPL_VALIDATION',
      errors: [{ pointer: 'body:/organisations/1', message: 'is not a perangkat-daerah' }],
    });
    const unknown = await r.app.inject({
      method: 'PUT',
      url: '/v1/spbe/roster',
      headers: bearer(people.operator),
      payload: { organisations: ['pd-x'] },
    });
    expect(unknown.json()).toMatchObject({ status: 404, code: 'SPL_NOT_FOUND' });

    const set = await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/roster',
      payload: { organisations: ['pd-b', 'pd-a'] },
    });
    expect(set.json().organisations.map((o: { slug: string }) => o.slug)).toEqual(['pd-a', 'pd-b']);
    // The same roster again records nothing.
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/roster',
      payload: { organisations: ['pd-a', 'pd-b'] },
    });
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/roster',
      payload: { organisations: ['pd-a'] },
    });
    expect(await audit('spbe_roster')).toEqual([
      expect.objectContaining({
        action: 'spbe.roster.set',
        before: { organisations: [] },
        after: { organisations: ['pd-a', 'pd-b'] },
      }),
      expect.objectContaining({
        before: { organisations: ['pd-a', 'pd-b'] },
        after: { organisations: ['pd-a'] },
      }),
    ]);
  });

  it('records a review, replaces it idempotently, and audits create and update', async () => {
    const body = {
      reviewedOn: '2026-03-31',
      scope: 'Reviu SPL triwulan I',
      reviewer: 'Inspektorat',
      findings: [{ code: 'T1', description: 'Belum ada SOP insiden', actions: [] }],
    };
    const created = await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-q1',
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      slug: 'reviu-q1',
      reviewedOn: '2026-03-31',
      reviewer: 'Inspektorat',
    });
    const again = await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-q1',
      payload: body,
    });
    expect(again.statusCode).toBe(200);
    const followed = {
      ...body,
      findings: [
        { ...body.findings[0], actions: [{ code: 'A1', description: 'Susun SOP', status: 'done' }] },
      ],
    };
    await send(r, people.operator, { method: 'PUT', url: '/v1/spbe/reviews/reviu-q1', payload: followed });
    const records = await audit('spbe_review');
    expect(records.map((x) => x.action)).toEqual(['spbe.review.create', 'spbe.review.update']);
    expect(records[1]!.after).toMatchObject({
      findings: [{ code: 'T1', actions: [{ code: 'A1', status: 'done' }] }],
    });

    const dup = await r.app.inject({
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-q2',
      headers: bearer(people.operator),
      payload: { ...body, findings: [body.findings[0], body.findings[0]] },
    });
    expect(dup.json()).toMatchObject({
      status: 400,
      code: 'SPL_VALIDATION',
      detail: 'finding T1 appears twice',
    });
    const badStatus = await r.app.inject({
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-q2',
      headers: bearer(people.operator),
      payload: {
        ...followed,
        findings: [{ ...followed.findings[0], actions: [{ code: 'A1', description: 'x', status: 'maybe' }] }],
      },
    });
    expect(badStatus.statusCode).toBe(400);
  });

  it('is part of spl apply and spl export: applied once, unchanged the second time, exported back', async () => {
    const doc = {
      apiVersion: 'spl/v1',
      spbe: {
        roster: ['pd-a', 'pd-b'],
        reviews: [
          {
            slug: 'reviu-tahunan',
            reviewedOn: '2026-06-30',
            scope: 'Reviu tahunan SPL',
            findings: [
              {
                code: 'F1',
                description: 'Uji beban',
                actions: [{ code: 'A1', description: 'Uji', status: 'planned', dueOn: '2026-09-30' }],
              },
            ],
          },
        ],
      },
    };
    const first = await send(r, people.operator, { method: 'POST', url: '/v1/apply', payload: doc });
    expect(first.json().items).toEqual([
      { kind: 'spbe_roster', id: 'roster', result: 'updated' },
      { kind: 'spbe_review', id: 'reviu-tahunan', result: 'created' },
    ]);
    const second = await send(r, people.operator, { method: 'POST', url: '/v1/apply', payload: doc });
    expect(second.json()).toMatchObject({ changed: false });

    const reviewer = await send(r, people.reviewer, { method: 'POST', url: '/v1/apply', payload: doc });
    expect(reviewer.json().items[0]).toMatchObject({
      result: 'unchanged',
      detail: expect.stringContaining('only operators'),
    });

    const exported = (await send(r, people.operator, { method: 'GET', url: '/v1/export' })).json();
    expect(exported.spbe.roster).toEqual(['pd-a', 'pd-b']);
    expect(exported.spbe.reviews).toEqual(
      expect.arrayContaining([
        doc.spbe.reviews[0],
        expect.objectContaining({ slug: 'reviu-q1', reviewer: 'Inspektorat' }),
      ]),
    );
    const back = await send(r, people.operator, { method: 'POST', url: '/v1/apply', payload: exported });
    expect(back.json().items.filter((i: { kind: string }) => i.kind.startsWith('spbe'))).toEqual(
      expect.arrayContaining([{ kind: 'spbe_roster', id: 'roster', result: 'unchanged' }]),
    );
    expect(back.json().items.filter((i: { result: string }) => i.result !== 'unchanged')).toEqual([]);
  });
});
