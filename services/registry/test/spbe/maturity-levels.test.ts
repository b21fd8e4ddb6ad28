import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpbeReport } from '../../src/routes/spbe/schemas.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import {
  applicationId,
  applyThroughGates,
  type Gatekeepers,
  gatekeepers,
  publishedApi,
  recordCalls,
  send,
  TODAY,
  YEAR,
} from './spbe-fixtures.js';

/**
 * One hub climbed level by level (Indikator 18, docs/spbe.md), checked at each level and
 * just below it. The hub at its top:
 *
 *            layanan-a (calls)
 *   pd-a ───────────────────────► pd-b          roster: pd-a, pd-b
 *     ▲
 *     ┊ federated calls
 *   splp-nasional (trusted issuer) ── bpjs (instansi-pusat, its application bound there)
 *
 *   reviews: reviu-tahunan (today) with findings F1, F2, each answered by an action.
 */
describe('Indikator 18 maturity level', () => {
  let r: TestRegistry;
  let people: Gatekeepers;
  const SPLP = 'https://splp.example.go.id';

  beforeAll(async () => {
    r = await buildTestRegistry();
    people = await gatekeepers(r);
    await applyThroughGates(r, people, {
      organisations: [
        { slug: 'pd-a', name: 'Dinas A', kind: 'perangkat-daerah' },
        { slug: 'pd-b', name: 'Badan B', kind: 'perangkat-daerah' },
        { slug: 'bpjs', name: 'BPJS', kind: 'instansi-pusat' },
      ],
    });
  });
  afterAll(() => r?.close());

  async function report(period = YEAR): Promise<SpbeReport> {
    return (
      await send(r, people.operator, { method: 'GET', url: `/v1/spbe/report?period=${period}` })
    ).json();
  }
  const reasons = (rep: SpbeReport, level: number) => rep.levels[level - 1]!.reasons.join(' | ');

  it('is 1 when no roster is declared, and says so', async () => {
    const rep = await report();
    expect(rep.level).toBe(1);
    expect(rep.levels[0]).toMatchObject({ met: true });
    expect(reasons(rep, 2)).toContain('no roster of Perangkat Daerah is declared');
    expect(rep.levels.map((l) => l.met)).toEqual([true, false, false, false, false]);
  });

  it('is 1 (just below 2) with a roster whose PDs do nothing through the hub', async () => {
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/roster',
      payload: { organisations: ['pd-a', 'pd-b'] },
    });
    const rep = await report();
    expect(rep.level).toBe(1);
    expect(reasons(rep, 2)).toContain('none of the 2 Perangkat Daerah on the roster');
    expect(rep.coverage).toMatchObject({ rosterSize: 2, neither: 2 });
  });

  it('is 2 when one roster PD publishes, and names the one that does not', async () => {
    await applyThroughGates(r, people, { apis: [publishedApi('pd-a', 'layanan-a')] });
    const rep = await report();
    expect(rep.level).toBe(2);
    expect(reasons(rep, 2)).toContain('1 of 2 Perangkat Daerah on the roster publish or consume');
    expect(reasons(rep, 3)).toContain('1 of 2 Perangkat Daerah on the roster neither publish nor consume');
    expect(reasons(rep, 3)).toContain('pd-b');
    expect(rep.coverage.items.find((c) => c.org === 'pd-a')).toMatchObject({
      status: 'publishes',
      publishedApis: 1,
    });
    expect(rep.apis).toEqual([
      expect.objectContaining({ org: 'pd-a', api: 'layanan-a', versions: ['v1'], calls: 0, errorRate: null }),
    ]);
  });

  it('stays 2 (just below 3) while the other PD has a subscription but only refused calls', async () => {
    await applyThroughGates(r, people, {
      applications: [{ org: 'pd-b', slug: 'aplikasi-b', name: 'Aplikasi B', client: {} }],
      subscriptions: [
        {
          application: 'pd-b/aplikasi-b',
          api: 'pd-a/layanan-a',
          version: 'v1',
          purpose: 'Verifikasi data layanan',
          state: 'approved',
        },
      ],
    });
    const appB = await applicationId(r, 'pd-b', 'aplikasi-b');
    await recordCalls(r, [
      { org: 'pd-a', api: 'layanan-a', applicationId: appB, statusClass: '4xx', count: 5 },
    ]);
    const rep = await report();
    expect(rep.level).toBe(2);
    expect(rep.coverage.items.find((c) => c.org === 'pd-b')).toMatchObject({
      status: 'neither',
      consumedSubscriptions: 0,
    });
  });

  it('is 3 when every roster PD publishes or consumes in the period; not in another period', async () => {
    const appB = await applicationId(r, 'pd-b', 'aplikasi-b');
    await recordCalls(r, [
      { org: 'pd-a', api: 'layanan-a', applicationId: appB, statusClass: '2xx', count: 120 },
      { org: 'pd-a', api: 'layanan-a', applicationId: appB, statusClass: '5xx', count: 5 },
    ]);
    const rep = await report();
    expect(rep.level).toBe(3);
    expect(reasons(rep, 3)).toContain('all 2 Perangkat Daerah on the roster publish or consume');
    expect(reasons(rep, 4)).toContain('no federation: no trusted issuer');
    expect(reasons(rep, 4)).toContain('no review of the hub is recorded');
    expect(rep.coverage).toMatchObject({ rosterSize: 2, publishes: 1, consumes: 1, both: 0, neither: 0 });
    expect(rep.coverage.items.find((c) => c.org === 'pd-b')).toMatchObject({ callsMade: 120 });
    expect(rep.apis[0]).toMatchObject({ consumers: ['pd-b'], calls: 130, successfulCalls: 120 });
    expect(rep.apis[0]!.errorRate).toBeCloseTo(5 / 130);
    expect(rep.apis[0]!.availability).toMatchObject({ measured: false });
    expect(rep.apis[0]!.availability.note).toMatch(/^not measured/);

    // With the SLA module's probes in the period (BKS 60(3)(m)): 19 of 20 up → 95 %, the target.
    const [version] = await r.db.query<{ id: string }>(
      `SELECT v.id FROM api_versions v JOIN apis a ON a.id = v.api_id WHERE a.slug = 'layanan-a'`,
    );
    for (let i = 0; i < 20; i++)
      await r.db.query(
        'INSERT INTO probe_results (version_id, at, ok, status, latency_ms) VALUES ($1, $2, $3, $4, 3)',
        [version!.id, `${YEAR}-03-01T00:${String(i).padStart(2, '0')}:00Z`, i !== 7, i !== 7 ? 200 : 503],
      );
    const probed = await report();
    expect(probed.apis[0]!.availability).toMatchObject({ measured: true, percent: 95, meetsTarget: true });
    await r.db.query('DELETE FROM probe_results WHERE version_id = $1', [version!.id]);

    const earlier = await report(String(Number(YEAR) - 1));
    expect(earlier.level).toBe(1);
    expect(earlier.apis).toEqual([]);
  });

  it('stays 3 (just below 4) with a recent review but only refused federated calls', async () => {
    await send(r, people.operator, {
      method: 'POST',
      url: '/v1/trusted-issuers',
      payload: {
        slug: 'splp-nasional',
        issuer: SPLP,
        jwksUrl: `${SPLP}/.well-known/jwks.json`,
        audience: 'spl',
        algorithms: ['ES256'],
        clientClaim: 'client_id',
        description: 'SPLP Nasional',
      },
    });
    await applyThroughGates(r, people, {
      applications: [
        {
          org: 'bpjs',
          slug: 'vclaim',
          name: 'VClaim',
          federated: { issuer: 'splp-nasional', clientClaimValue: 'vc' },
        },
      ],
    });
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-tahunan',
      payload: {
        reviewedOn: TODAY,
        scope: 'Reviu penggunaan SPL',
        findings: [
          {
            code: 'F1',
            description: 'Dokumentasi API belum lengkap',
            actions: [{ code: 'A1', description: 'Lengkapi', status: 'planned' }],
          },
          { code: 'F2', description: 'Belum ada uji beban' },
        ],
      },
    });
    await recordCalls(r, [{ org: 'pd-a', api: 'layanan-a', issuer: SPLP, statusClass: '4xx', count: 3 }]);
    const rep = await report();
    expect(rep.level).toBe(3);
    expect(reasons(rep, 4)).toContain(
      'no federation traffic in the period from the 1 connected issuers: splp-nasional',
    );
    expect(reasons(rep, 4)).toContain(`reviewed within the 12 months to ${TODAY}: reviu-tahunan on ${TODAY}`);
  });

  it('stays 3 (just below 4) with federation traffic but only a review older than 12 months', async () => {
    const vclaim = await applicationId(r, 'bpjs', 'vclaim');
    await recordCalls(r, [{ org: 'pd-a', api: 'layanan-a', applicationId: vclaim, issuer: SPLP, count: 40 }]);
    const stale = new Date();
    stale.setUTCMonth(stale.getUTCMonth() - 13);
    const staleDay = stale.toISOString().slice(0, 10);
    const review = (
      await send(r, people.operator, { method: 'GET', url: '/v1/spbe/reviews/reviu-tahunan' })
    ).json();
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-tahunan',
      payload: { reviewedOn: staleDay, scope: review.scope, findings: review.findings },
    });
    const rep = await report();
    expect(rep.level).toBe(3);
    expect(reasons(rep, 4)).toContain('federation traffic in the period from splp-nasional (40 calls)');
    expect(reasons(rep, 4)).toContain(`the latest is reviu-tahunan on ${staleDay}`);
    expect(rep.federation).toEqual([
      expect.objectContaining({
        slug: 'splp-nasional',
        applications: 1,
        calls: 43,
        successfulCalls: 40,
        apis: [{ org: 'pd-a', api: 'layanan-a', calls: 43 }],
      }),
    ]);
  });

  it('is 4 (just below 5) with a recent review one of whose findings has no action', async () => {
    const review = (
      await send(r, people.operator, { method: 'GET', url: '/v1/spbe/reviews/reviu-tahunan' })
    ).json();
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-tahunan',
      payload: { reviewedOn: TODAY, scope: review.scope, findings: review.findings },
    });
    const rep = await report();
    expect(rep.level).toBe(4);
    expect(reasons(rep, 5)).toContain('1 of 2 findings of the latest review reviu-tahunan');
    expect(reasons(rep, 5)).toContain('have no improvement action: F2');
  });

  it('is 5 when every finding of the latest review has an improvement action', async () => {
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-tahunan',
      payload: {
        reviewedOn: TODAY,
        scope: 'Reviu penggunaan SPL',
        findings: [
          {
            code: 'F1',
            description: 'Dokumentasi API belum lengkap',
            actions: [{ code: 'A1', description: 'Lengkapi', status: 'done' }],
          },
          {
            code: 'F2',
            description: 'Belum ada uji beban',
            actions: [
              {
                code: 'A2',
                description: 'Uji beban triwulanan',
                status: 'in-progress',
                dueOn: `${YEAR}-12-31`,
              },
            ],
          },
        ],
      },
    });
    const rep = await report();
    expect(rep.level).toBe(5);
    expect(rep.levels.every((l) => l.met)).toBe(true);
    expect(reasons(rep, 5)).toContain('every one of the 2 findings of the latest review reviu-tahunan');
    expect(reasons(rep, 5)).toContain('1 of 2 done');
    expect(rep.map.edges).toEqual(
      expect.arrayContaining([
        { from: 'pd-a', to: 'pd-b', kind: 'api', apis: ['layanan-a'], calls: 120 },
        { from: 'issuer:splp-nasional', to: 'pd-a', kind: 'federation', apis: ['layanan-a'], calls: 43 },
      ]),
    );
  });

  it('is back to 4 when a later review has a finding without action', async () => {
    await send(r, people.operator, {
      method: 'PUT',
      url: '/v1/spbe/reviews/reviu-lanjutan',
      payload: {
        reviewedOn: TODAY,
        scope: 'Reviu lanjutan',
        findings: [{ code: 'G1', description: 'Baru' }],
      },
    });
    // Same day: the later slug in order is not "latest"; make it unambiguous by date.
    const rep = await report();
    const latest = [...rep.reviews].sort(
      (a, b) => b.reviewedOn.localeCompare(a.reviewedOn) || a.slug.localeCompare(b.slug),
    )[0]!;
    expect(latest.slug).toBe('reviu-lanjutan');
    expect(rep.level).toBe(4);
    expect(reasons(rep, 5)).toContain('have no improvement action: G1');
  });
});
