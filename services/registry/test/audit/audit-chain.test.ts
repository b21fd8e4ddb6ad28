import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/auth/principal.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

describe.each(['postgres', 'pglite'] as const)('audit trail (%s)', (store) => {
  let r: TestRegistry;
  beforeAll(async () => {
    r = await buildTestRegistry({ store });
  });
  afterAll(async () => r?.close());

  it('keeps one verifying chain across 50 concurrent mutations', async () => {
    const token = await r.operatorToken();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        r.app.inject({
          method: 'POST',
          url: '/v1/organisations',
          headers: bearer(token),
          payload: { slug: `pd-${i}`, name: `Perangkat Daerah ${i}`, kind: 'perangkat-daerah' },
        }),
      ),
    );
    expect(results.map((res) => res.statusCode)).toEqual(Array(50).fill(201));
    const verdict = (await r.app.inject({ url: '/v1/audit/verify', headers: bearer(token) })).json();
    expect(verdict.ok).toBe(true);
    // bootstrap (signing key, organisation, client) + 50 creations
    expect(verdict.records).toBeGreaterThanOrEqual(53);
    const seqs = (await r.db.query<{ seq: number }>('SELECT seq FROM audit_log ORDER BY seq')).map((x) =>
      Number(x.seq),
    );
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('records who changed what, with before and after', async () => {
    const token = await r.operatorToken();
    await r.app.inject({
      method: 'PATCH',
      url: '/v1/organisations/pd-7',
      headers: bearer(token),
      payload: { name: 'Dinas Tujuh' },
    });
    const { records } = (
      await r.app.inject({ url: '/v1/audit?entityType=organisation&entityId=pd-7', headers: bearer(token) })
    ).json();
    expect(records.map((x: { action: string }) => x.action)).toEqual([
      'organisation.create',
      'organisation.update',
    ]);
    expect(records[1].before.name).toBe('Perangkat Daerah 7');
    expect(records[1].after.name).toBe('Dinas Tujuh');
    expect(records[1].actor.clientId).toBe(r.bootstrap.clientId);
  });

  it('writes no record for a change that changes nothing', async () => {
    const token = await r.operatorToken();
    const count = async () =>
      (await r.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log'))[0]!.n;
    const before = await count();
    const res = await r.app.inject({
      method: 'PATCH',
      url: '/v1/organisations/pd-7',
      headers: bearer(token),
      payload: { name: 'Dinas Tujuh' },
    });
    expect(res.statusCode).toBe(200);
    expect(await count()).toBe(before);
  });

  it('names the first record edited behind the registry’s back', async () => {
    const token = await r.operatorToken();
    const [target] = await r.db.query<{ seq: number }>(
      "SELECT seq FROM audit_log WHERE entity_id = 'pd-20' AND action = 'organisation.create'",
    );
    await r.db.query(
      `UPDATE audit_log SET after = jsonb_set(after, '{name}', '"Dinas Palsu"') WHERE seq = $1`,
      [target!.seq],
    );
    const verdict = (await r.app.inject({ url: '/v1/audit/verify', headers: bearer(token) })).json();
    expect(verdict).toMatchObject({
      ok: false,
      firstBrokenSeq: Number(target!.seq),
      reason: 'record altered',
    });
    expect(verdict.records).toBe(Number(target!.seq) - 1);
  });

  it('finds a deleted record by the gap it leaves', async () => {
    const token = await r.operatorToken();
    await r.db.query(
      "UPDATE audit_log SET after = jsonb_set(after, '{name}', '\"Organisation pd-20\"') WHERE entity_id = 'pd-20'",
    );
    await r.db.query(
      "UPDATE audit_log SET after = jsonb_set(after, '{name}', '\"Perangkat Daerah 20\"') WHERE entity_id = 'pd-20'",
    );
    await r.db.query('DELETE FROM audit_log WHERE seq = 10');
    const verdict = (await r.app.inject({ url: '/v1/audit/verify', headers: bearer(token) })).json();
    expect(verdict.ok).toBe(false);
    expect(verdict.firstBrokenSeq).toBe(10);
  });

  it('is readable by auditors and closed to publishers', async () => {
    const auditor = await r.person({ org: 'diskominfo', roles: ['auditor'] });
    const publisher = await r.person({ org: 'pd-1', roles: ['publisher'] });
    expect((await r.app.inject({ url: '/v1/audit/verify', headers: bearer(auditor.token) })).statusCode).toBe(
      200,
    );
    const res = await r.app.inject({ url: '/v1/audit', headers: bearer(publisher.token) });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });
});

describe('audit chains of two registries in one database (postgres)', () => {
  it('are locked apart: a long change on one schema does not hold up changes on another', async () => {
    const a = await buildTestRegistry({ store: 'postgres' });
    const b = await buildTestRegistry({ store: 'postgres' });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      // A change on A that has appended to its chain and not yet committed (as a long
      // declarative apply does) holds A's chain lock until it ends.
      let appended = () => {};
      const isAppended = new Promise<void>((resolve) => {
        appended = resolve;
      });
      const longChange = a.ctx.mutate(SYSTEM_ACTOR, async (_tx, audit) => {
        await audit({ action: 'test.long-change', entityType: 'test', entityId: 'a' });
        appended();
        await held;
      });
      await isAppended;
      const onB = await Promise.race([
        b.organisation('dinkes').then(() => 'done'),
        new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting after 5 s')),
      ]);
      expect(onB).toBe('done');
      release();
      await longChange;
      expect(
        (await a.app.inject({ url: '/v1/audit/verify', headers: bearer(await a.operatorToken()) })).json().ok,
      ).toBe(true);
    } finally {
      release();
      await a.close();
      await b.close();
    }
  }, 20_000);
});
