import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApi } from '../../src/apis/api-store.js';
import { applyVersion } from '../../src/apis/version-store.js';
import { actorOf, type Principal } from '../../src/auth/principal.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import {
  apiBody,
  countRows,
  createApi,
  createVersion,
  PERIZINAN_YAML,
  SECRET_HEADER_VALUE,
} from './fixtures.js';

/**
 * The catalog of this suite:
 *
 *   dpmptsp/perizinan    terbatas       tags perizinan        v1 published, v2 draft
 *   dpmptsp/reklame      publik         tags perizinan,pajak  (no versions)
 *   disdukcapil/nik      dikecualikan   tags kependudukan     v1 published — dinkes holds an approved subscription
 *   disdukcapil/kk       dikecualikan   tags kependudukan     v1 published — nobody subscribed
 */
describe('catalog search and API visibility', () => {
  let r: TestRegistry;
  let token: Record<'dinkes' | 'bappeda' | 'disdukcapil' | 'auditor' | 'reviewer', string>;

  const search = async (query: string, as: string) => {
    const res = await r.app.inject({ url: `/v1/apis${query}`, headers: bearer(as) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { items: Array<{ org: string; slug: string; versions: unknown[] }>; total: number };
  };
  const names = (page: { items: Array<{ org: string; slug: string }> }) =>
    page.items.map((a) => `${a.org}/${a.slug}`);

  const publishV1 = async (org: string, api: string) => {
    await createVersion(r, org, api, 'v1');
    const [v] = await r.db.query<{ id: string }>(
      `SELECT v.id FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
       WHERE o.slug = $1 AND a.slug = $2 AND v.version = 'v1'`,
      [org, api],
    );
    // The lifecycle has its own suite; here the state is set directly.
    await r.db.query("UPDATE api_versions SET state = 'published' WHERE id = $1", [v!.id]);
    return v!.id;
  };

  beforeAll(async () => {
    r = await buildTestRegistry();
    for (const org of ['dpmptsp', 'disdukcapil', 'dinkes', 'bappeda']) await r.organisation(org);
    await createApi(r, 'dpmptsp', 'perizinan', { name: 'Layanan Perizinan Usaha' });
    await publishV1('dpmptsp', 'perizinan');
    await createVersion(r, 'dpmptsp', 'perizinan', 'v2');
    await createApi(r, 'dpmptsp', 'reklame', {
      name: 'Izin Reklame',
      classification: 'publik',
      tags: ['perizinan', 'pajak'],
      description: 'Pajak dan izin reklame 100%',
    });
    await createApi(r, 'disdukcapil', 'nik', { classification: 'dikecualikan', tags: ['kependudukan'] });
    const nikV1 = await publishV1('disdukcapil', 'nik');
    await createApi(r, 'disdukcapil', 'kk', { classification: 'dikecualikan', tags: ['kependudukan'] });
    await publishV1('disdukcapil', 'kk');
    // dinkes's application holds an approved subscription to disdukcapil/nik v1.
    const [dinkes] = await r.db.query<{ id: string }>("SELECT id FROM organisations WHERE slug = 'dinkes'");
    const appId = randomUUID();
    await r.db.query(
      "INSERT INTO applications (id, org_id, slug, name) VALUES ($1, $2, 'rujukan', 'Rujukan')",
      [appId, dinkes!.id],
    );
    await r.db.query(
      `INSERT INTO subscriptions (id, application_id, version_id, purpose, state, requested_by)
       VALUES ($1, $2, $3, 'Verifikasi pasien', 'approved', 'test')`,
      [randomUUID(), appId, nikV1],
    );
    token = {
      dinkes: (await r.person({ org: 'dinkes', roles: ['consumer'] })).token,
      bappeda: (await r.person({ org: 'bappeda', roles: ['consumer'] })).token,
      disdukcapil: (await r.person({ org: 'disdukcapil', roles: ['publisher'] })).token,
      auditor: (await r.person({ org: 'diskominfo', roles: ['auditor'] })).token,
      reviewer: (await r.person({ org: 'diskominfo', roles: ['reviewer'] })).token,
    };
  });
  afterAll(async () => r?.close());

  it('finds APIs by text in name, description or slug, case-insensitively, treating % literally', async () => {
    expect(names(await search('?q=PERIZINAN', token.bappeda))).toEqual(['dpmptsp/perizinan']);
    expect(names(await search('?q=reklame', token.bappeda))).toEqual(['dpmptsp/reklame']);
    expect(names(await search('?q=100%25', token.bappeda))).toEqual(['dpmptsp/reklame']);
    expect(names(await search('?q=%25%25', token.bappeda))).toEqual([]);
  });

  it('filters by tag, organisation, classification and lifecycle state, and pages', async () => {
    expect(names(await search('?tag=pajak', token.bappeda))).toEqual(['dpmptsp/reklame']);
    expect(names(await search('?org=dpmptsp', token.bappeda))).toEqual([
      'dpmptsp/perizinan',
      'dpmptsp/reklame',
    ]);
    expect(names(await search('?classification=publik', token.bappeda))).toEqual(['dpmptsp/reklame']);
    expect(names(await search('?state=published&org=dpmptsp', token.bappeda))).toEqual(['dpmptsp/perizinan']);
    // A draft is a state only its owner (and readers of everything) can filter on.
    expect(names(await search('?state=draft', token.bappeda))).toEqual([]);
    expect(names(await search('?state=draft', token.reviewer))).toEqual(['dpmptsp/perizinan']);
    const page = await search('?limit=1&offset=1&org=dpmptsp', token.bappeda);
    expect(page).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(names(page)).toEqual(['dpmptsp/reklame']);
    const bad = await r.app.inject({
      url: '/v1/apis?classification=sangat-rahasia',
      headers: bearer(token.bappeda),
    });
    expect(bad.statusCode).toBe(400);
  });

  it('summarises each API’s versions, showing others only published and deprecated ones', async () => {
    const [perizinan] = (await search('?q=perizinan&org=dpmptsp&tag=perizinan', token.bappeda)).items;
    expect(perizinan!.versions).toEqual([{ version: 'v1', state: 'published' }]);
    const owner = await r.person({ org: 'dpmptsp', roles: ['publisher'] });
    const [own] = (await search('?org=dpmptsp&classification=terbatas', owner.token)).items;
    expect(own!.versions).toEqual([
      { version: 'v1', state: 'published' },
      { version: 'v2', state: 'draft' },
    ]);
  });

  it('shows a dikecualikan API only to its owner, operators, auditors, reviewers and approved subscribers', async () => {
    const all = '?tag=kependudukan';
    expect(names(await search(all, token.bappeda))).toEqual([]);
    expect(names(await search(all, token.dinkes))).toEqual(['disdukcapil/nik']);
    for (const who of [token.disdukcapil, token.auditor, token.reviewer, await r.operatorToken()])
      expect(names(await search(all, who))).toEqual(['disdukcapil/kk', 'disdukcapil/nik']);
    // To anyone else it does not exist: 404, as for a slug never registered.
    for (const url of ['/v1/apis/disdukcapil/nik', '/v1/apis/disdukcapil/nik/versions/v1']) {
      const res = await r.app.inject({ url, headers: bearer(token.bappeda) });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('SPL_NOT_FOUND');
    }
    expect(
      (await r.app.inject({ url: '/v1/apis/disdukcapil/nik', headers: bearer(token.dinkes) })).statusCode,
    ).toBe(200);
    expect(
      (await r.app.inject({ url: '/v1/apis/disdukcapil/kk', headers: bearer(token.dinkes) })).statusCode,
    ).toBe(404);
  });

  it('changes an API only for its own publishers or operators, and records nothing for a no-op', async () => {
    const patch = (token: string, payload: object) =>
      r.app.inject({ method: 'PATCH', url: '/v1/apis/dpmptsp/reklame', headers: bearer(token), payload });
    const otherPublisher = await r.person({ org: 'dinkes', roles: ['publisher'] });
    expect((await patch(otherPublisher.token, { slaTarget: 99 })).statusCode).toBe(403);
    expect((await patch(token.bappeda, { slaTarget: 99 })).statusCode).toBe(403);
    const op = await r.operatorToken();
    const changed = await patch(op, { slaTarget: 99.5, contact: { email: 'a@b.go.id', name: 'Humas' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ slaTarget: 99.5, classification: 'publik' });
    const audits = await countRows(r, 'audit_log');
    expect(
      (await patch(op, { slaTarget: 99.5, contact: { name: 'Humas', email: 'a@b.go.id' } })).statusCode,
    ).toBe(200);
    expect(await countRows(r, 'audit_log')).toBe(audits);
    expect((await patch(op, { slug: 'renamed' })).statusCode).toBe(400);
  });

  it('defaults the SLA target to 95% (BKS 60(3)(m)) and refuses a duplicate slug with 409', async () => {
    const created = await createApi(r, 'bappeda', 'perencanaan', { slaTarget: undefined });
    expect(created.slaTarget).toBe(95);
    const again = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations/bappeda/apis',
      headers: bearer(await r.operatorToken()),
      payload: apiBody('perencanaan'),
    });
    expect(again.statusCode).toBe(409);
  });

  it('applies an API and a version idempotently: a second identical apply writes no audit record', async () => {
    const principal: Principal = { clientId: 'cli', org: 'diskominfo', roles: ['operator'] };
    const api = { org: 'dinkes', ...apiBody('rujukan'), tags: ['kesehatan'] } as never;
    const version = {
      version: 'v1',
      openapi: PERIZINAN_YAML,
      upstream: { urls: ['https://rujukan.contoh.go.id'], timeoutMs: 10_000 },
      upstreamAuth: { kind: 'header' as const, name: 'X-Api-Key', value: SECRET_HEADER_VALUE },
      plan: { requestsPerMinute: 60, bodyLimitBytes: 1024 * 1024 },
    };
    const run = () =>
      r.ctx.mutate(actorOf(principal), async (tx, audit) => [
        await applyApi(tx, audit, principal, api, r.ctx.clock()),
        await applyVersion(tx, audit, principal, 'dinkes', 'rujukan', version, r.ctx),
      ]);
    expect(await run()).toEqual(['created', 'created']);
    const audits = await countRows(r, 'audit_log');
    expect(await run()).toEqual(['unchanged', 'unchanged']);
    expect(await countRows(r, 'audit_log')).toBe(audits);
    version.upstreamAuth.value = 'a-new-upstream-secret-value';
    expect(await run()).toEqual(['unchanged', 'updated']);
    // Once past draft, a different definition is a conflict, not a silent change.
    await r.db.query(
      "UPDATE api_versions SET state = 'submitted' WHERE version = 'v1' AND upstream->'urls' ? $1",
      ['https://rujukan.contoh.go.id'],
    );
    version.plan.requestsPerMinute = 120;
    await expect(run()).rejects.toMatchObject({ code: 'SPL_IMMUTABLE' });
    const publisherElsewhere: Principal = { clientId: 'x', org: 'bappeda', roles: ['publisher'] };
    await expect(
      r.ctx.mutate(actorOf(publisherElsewhere), (tx, audit) =>
        applyApi(tx, audit, publisherElsewhere, api, r.ctx.clock()),
      ),
    ).rejects.toMatchObject({ code: 'SPL_FORBIDDEN' });
  });
});
