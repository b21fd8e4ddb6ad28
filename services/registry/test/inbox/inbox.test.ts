import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { call, insertApiVersion } from '../subscriptions/api-fixtures.js';

/**
 *   disdukcapil/kependudukan: v1 submitted, v2 kelaikan_operasi, v3 kelaikan_keamanan,
 *                             v4 draft sent back with a note, v5 published
 *   bapenda/pajak:            v1 kelaikan_keamanan (not Sari's to publish)
 *   dinkes/rujukan asks for kependudukan v5 (pending) and had two requests rejected:
 *   one 3 days ago, one 40 days ago (too old to show)
 *
 *   Rina operator · Rudi reviewer · Sari publisher of disdukcapil · Dewi consumer of dinkes · Ani auditor
 */
describe('the inbox: what waits on each person', () => {
  let r: TestRegistry;
  const tokens = { rina: '', rudi: '', sari: '', dewi: '', ani: '' };
  let pendingId: string;
  let recentRejectedId: string;

  beforeAll(async () => {
    r = await buildTestRegistry();
    for (const org of ['disdukcapil', 'dinkes', 'bapenda']) await r.organisation(org);
    tokens.rina = (await r.person({ org: 'diskominfo', roles: ['operator'] })).token;
    tokens.rudi = (await r.person({ org: 'diskominfo', roles: ['reviewer'] })).token;
    tokens.sari = (await r.person({ org: 'disdukcapil', roles: ['publisher'] })).token;
    tokens.dewi = (await r.person({ org: 'dinkes', roles: ['consumer'] })).token;
    tokens.ani = (await r.person({ org: 'diskominfo', roles: ['auditor'] })).token;
    const states = ['submitted', 'kelaikan_operasi', 'kelaikan_keamanan', 'draft', 'published'];
    for (const [i, state] of states.entries())
      await insertApiVersion(r, {
        org: 'disdukcapil',
        api: 'kependudukan',
        version: `v${i + 1}`,
        state,
        ...(state === 'draft' ? { reviewNote: 'lengkapi batas laju permintaan' } : {}),
      });
    await insertApiVersion(r, { org: 'bapenda', api: 'pajak', version: 'v1', state: 'kelaikan_keamanan' });
    await call(r, tokens.dewi, 'POST', '/v1/organisations/dinkes/applications', {
      slug: 'rujukan',
      name: 'Rujukan',
      credentials: {},
    });
    const ask = async () =>
      (
        await call(r, tokens.dewi, 'POST', '/v1/subscriptions', {
          application: 'dinkes/rujukan',
          api: 'disdukcapil/kependudukan',
          version: 'v5',
          purpose: 'Verifikasi identitas pasien rujukan',
        })
      ).json().id as string;
    const reject = (id: string) =>
      call(r, tokens.sari, 'POST', `/v1/subscriptions/${id}/decision`, {
        decision: 'reject',
        reason: 'tujuan kurang jelas',
      });
    const old = await ask();
    await reject(old);
    await r.db.query("UPDATE subscriptions SET decided_at = now() - interval '40 days' WHERE id = $1", [old]);
    recentRejectedId = await ask();
    await reject(recentRejectedId);
    pendingId = await ask();
  });
  afterAll(async () => r?.close());

  const inbox = async (who: keyof typeof tokens) => {
    const res = await call(r, tokens[who], 'GET', '/v1/inbox');
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as { kind: string; summary: string; path: string; since: string }[];
  };
  const kindsAndPaths = (items: { kind: string; path: string }[]) =>
    items.map((i) => [i.kind, i.path]).sort();

  it('gives the operator (kelaikan operasi approver by default) the submissions and every consent request', async () => {
    expect(kindsAndPaths(await inbox('rina'))).toEqual([
      ['consent-subscription', `/v1/subscriptions/${pendingId}`],
      ['review-kelaikan-operasi', '/v1/apis/disdukcapil/kependudukan/versions/v1'],
    ]);
  });

  it('gives the reviewer (kelaikan keamanan approver) what has kelaikan operasi', async () => {
    const items = await inbox('rudi');
    expect(kindsAndPaths(items)).toEqual([
      ['review-kelaikan-keamanan', '/v1/apis/disdukcapil/kependudukan/versions/v2'],
    ]);
    expect(items[0]!.summary).toContain('disdukcapil/kependudukan v2');
    expect(Date.parse(items[0]!.since)).not.toBeNaN();
  });

  it('gives the publisher its own versions to publish or fix, and consent requests to its APIs', async () => {
    const items = await inbox('sari');
    expect(kindsAndPaths(items)).toEqual([
      ['consent-subscription', `/v1/subscriptions/${pendingId}`],
      ['publish-version', '/v1/apis/disdukcapil/kependudukan/versions/v3'],
      ['version-returned', '/v1/apis/disdukcapil/kependudukan/versions/v4'],
    ]);
    expect(items.find((i) => i.kind === 'version-returned')!.summary).toContain(
      'lengkapi batas laju permintaan',
    );
    expect(items.find((i) => i.kind === 'consent-subscription')!.summary).toContain('dinkes/rujukan');
  });

  it('gives the consumer its rejections of the last 30 days, with the reason', async () => {
    const items = await inbox('dewi');
    expect(kindsAndPaths(items)).toEqual([
      ['subscription-rejected', `/v1/subscriptions/${recentRejectedId}`],
    ]);
    expect(items[0]!.summary).toContain('tujuan kurang jelas');
  });

  it('gives an auditor nothing to act on', async () => {
    expect(await inbox('ani')).toEqual([]);
  });

  it('follows the configured approver roles (DIGEST §8.1)', async () => {
    const other = await buildTestRegistry({ env: { SPL_APPROVER_KELAIKAN_OPERASI: 'reviewer' } });
    try {
      await other.organisation('disdukcapil');
      await insertApiVersion(other, {
        org: 'disdukcapil',
        api: 'kependudukan',
        version: 'v1',
        state: 'submitted',
      });
      await insertApiVersion(other, {
        org: 'disdukcapil',
        api: 'kependudukan',
        version: 'v2',
        state: 'kelaikan_operasi',
      });
      const reviewer = (await other.person({ org: 'diskominfo', roles: ['reviewer'] })).token;
      const operator = (await other.person({ org: 'diskominfo', roles: ['operator'] })).token;
      const kinds = async (token: string) =>
        ((await call(other, token, 'GET', '/v1/inbox')).json().items as { kind: string }[])
          .map((i) => i.kind)
          .sort();
      expect(await kinds(reviewer)).toEqual(['review-kelaikan-keamanan', 'review-kelaikan-operasi']);
      expect(await kinds(operator)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses a caller without a token with 401', async () => {
    expect((await r.app.inject('/v1/inbox')).statusCode).toBe(401);
  });
});
