import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { insertProbes, insertSlaVersion } from './sla-fixtures.js';

/**
 * Known probes of disdukcapil/kependudukan v1, one every 10 minutes (144 a day):
 *
 *   2026-03-01  7 failed                       137/144 = 0.9514  meets 95 %
 *   2026-03-02  8 failed, all inside a 2-hour  132/132 = 1        (12 probes excluded)
 *               maintenance window 00:00–02:00
 *   2026-03-03  20 failed                      124/144 = 0.8611  misses
 *   March       393 / 420
 */
const DAY = 24 * 3_600_000;
const MARCH_1 = Date.UTC(2026, 2, 1);
const failingFirst = (n: number) => Array.from({ length: 144 }, (_, i) => i >= n);

describe('availability against the SLA target, with maintenance windows', () => {
  let r: TestRegistry;
  let publisher: string;
  let other: string;
  let reader: string;
  let windowId: string;

  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_PROBE_SECONDS: '0' } });
    const { versionId } = await insertSlaVersion(r, { org: 'disdukcapil', api: 'kependudukan' });
    await insertSlaVersion(r, { org: 'bpjs', api: 'peserta' });
    await insertProbes(r, versionId, new Date(MARCH_1), failingFirst(7), 600_000);
    await insertProbes(r, versionId, new Date(MARCH_1 + DAY), failingFirst(8), 600_000);
    await insertProbes(r, versionId, new Date(MARCH_1 + 2 * DAY), failingFirst(20), 600_000);
    publisher = (await r.person({ org: 'disdukcapil', roles: ['publisher'] })).token;
    other = (await r.person({ org: 'bpjs', roles: ['publisher'] })).token;
    reader = (await r.person({ org: 'bpjs', roles: ['consumer'] })).token;
  }, 60_000);
  afterAll(async () => r?.close());

  const availability = (query: string, token = reader) =>
    r.app.inject({
      method: 'GET',
      url: `/v1/apis/disdukcapil/kependudukan/availability?${query}`,
      headers: bearer(token),
    });

  it('lets the owner declare a maintenance window, audited, and nobody else', async () => {
    const body = {
      startsAt: '2026-03-02T00:00:00Z',
      endsAt: '2026-03-02T02:00:00Z',
      reason: 'Migrasi basis data',
    };
    const refused = await r.app.inject({
      method: 'POST',
      url: '/v1/apis/disdukcapil/kependudukan/maintenance-windows',
      headers: bearer(other),
      payload: body,
    });
    expect(refused.statusCode).toBe(403);
    const backwards = await r.app.inject({
      method: 'POST',
      url: '/v1/apis/disdukcapil/kependudukan/maintenance-windows',
      headers: bearer(publisher),
      payload: { ...body, endsAt: '2026-03-01T00:00:00Z' },
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.headers['content-type']).toMatch(/^application\/problem\+json/);
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/apis/disdukcapil/kependudukan/maintenance-windows',
      headers: bearer(publisher),
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(201);
    windowId = res.json().id;
    expect(res.json()).toMatchObject({
      org: 'disdukcapil',
      api: 'kependudukan',
      ...{ startsAt: '2026-03-02T00:00:00.000Z' },
    });

    const listed = await r.app.inject({
      method: 'GET',
      url: '/v1/apis/disdukcapil/kependudukan/maintenance-windows',
      headers: bearer(reader),
    });
    expect(listed.json().map((w: { id: string }) => w.id)).toEqual([windowId]);
    const audit = await r.app.inject({
      method: 'GET',
      url: '/v1/audit',
      headers: bearer(await r.operatorToken()),
    });
    expect(JSON.stringify(audit.json())).toContain('maintenance-window.create');
  });

  it('answers per day, leaving maintenance out and saying so', async () => {
    const res = await availability('from=2026-03-01T00:00:00Z&to=2026-03-04T00:00:00Z&granularity=day');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report.slaTarget).toBe(95);
    const [v1] = report.versions;
    expect(v1.periods).toEqual([
      {
        start: '2026-03-01T00:00:00.000Z',
        probes: 144,
        up: 137,
        excluded: 0,
        availability: 137 / 144,
        meetsTarget: true,
        maintenance: false,
      },
      {
        start: '2026-03-02T00:00:00.000Z',
        probes: 132,
        up: 132,
        excluded: 12,
        availability: 1,
        meetsTarget: true,
        maintenance: true,
      },
      {
        start: '2026-03-03T00:00:00.000Z',
        probes: 144,
        up: 124,
        excluded: 0,
        availability: 124 / 144,
        meetsTarget: false,
        maintenance: false,
      },
    ]);
    expect(v1.total).toEqual({
      probes: 420,
      up: 393,
      excluded: 12,
      availability: 393 / 420,
      meetsTarget: false,
    });
    expect(report.maintenanceWindows.map((w: { id: string }) => w.id)).toEqual([windowId]);
  });

  it('leaves failures inside the maintenance window out of the incidents', async () => {
    const res = await r.app.inject({
      method: 'GET',
      url: '/v1/reports/monev?org=disdukcapil&from=2026-03-01T00:00:00Z&to=2026-03-04T00:00:00Z',
      headers: bearer(await r.operatorToken()),
    });
    expect(res.json().apis[0].incidents).toEqual([
      {
        start: '2026-03-01T00:00:00.000Z',
        end: '2026-03-01T01:10:00.000Z',
        durationSeconds: 4200,
        probes: 7,
      },
      {
        start: '2026-03-03T00:00:00.000Z',
        end: '2026-03-03T03:20:00.000Z',
        durationSeconds: 12000,
        probes: 20,
      },
    ]);
  });

  it('answers per month and per year, periods without probes as null', async () => {
    const month = (
      await availability('from=2026-02-01T00:00:00Z&to=2026-04-01T00:00:00Z&granularity=month')
    ).json();
    expect(
      month.versions[0].periods.map((p: { start: string; probes: number; availability: number | null }) => [
        p.start,
        p.probes,
        p.availability,
      ]),
    ).toEqual([
      ['2026-02-01T00:00:00.000Z', 0, null],
      ['2026-03-01T00:00:00.000Z', 420, 393 / 420],
    ]);
    const year = (
      await availability('from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&granularity=year')
    ).json();
    expect(year.versions[0].periods).toHaveLength(1);
    expect(year.versions[0].periods[0]).toMatchObject({ probes: 420, up: 393, maintenance: true });
  });

  it('counts the probes again once the window is removed (by its owner only)', async () => {
    const url = `/v1/apis/disdukcapil/kependudukan/maintenance-windows/${windowId}`;
    expect((await r.app.inject({ method: 'DELETE', url, headers: bearer(other) })).statusCode).toBe(403);
    expect((await r.app.inject({ method: 'DELETE', url, headers: bearer(publisher) })).statusCode).toBe(204);
    expect((await r.app.inject({ method: 'DELETE', url, headers: bearer(publisher) })).statusCode).toBe(404);
    const day = (await availability('from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z')).json();
    expect(day.versions[0].periods[0]).toMatchObject({
      probes: 144,
      up: 136,
      excluded: 0,
      maintenance: false,
    });
    const audit = await r.app.inject({
      method: 'GET',
      url: '/v1/audit',
      headers: bearer(await r.operatorToken()),
    });
    expect(JSON.stringify(audit.json())).toContain('maintenance-window.delete');
  });

  it('refuses a range that is backwards or too long', async () => {
    expect((await availability('from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z')).statusCode).toBe(400);
    expect(
      (await availability('from=2020-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&granularity=day')).statusCode,
    ).toBe(400);
  });
});
