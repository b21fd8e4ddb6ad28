import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE_STREAM_FIELD } from '../../src/usage/usage-record.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { insertProbes, insertSlaVersion, waitFor } from '../sla/sla-fixtures.js';

/**
 * Known traffic through the real ingestion path (XADD on the usage stream the gateway and
 * broker write; the registry's ingester stores it) and known probe results; the report's
 * numbers are checked exactly. 2026-03-01, disdukcapil/kependudukan v1:
 *
 *   app                      status  count  latency buckets (≤5,10,25,50,100,250,500,1000,2500,5000,+Inf ms)
 *   dinkes/sistem-rujukan    2xx     90     10 20 30 20 5 3 1 1 0 0 0      10:00
 *   dinkes/sistem-rujukan    5xx      6      0  0  0  0 0 0 0 0 0 0 6      10:00
 *   bpjs/klaim               2xx     30     30  0 …                        10:00
 *   bpjs/klaim               4xx      4      4  0 …                        10:00
 *   (no application)         4xx      2      2  0 …                        10:00
 *   dinkes/sistem-rujukan    2xx     10      0  0 10 0 …                   11:00
 *   ── not counted: the first record sent again; 1,000 calls on 2026-04-01; 50 calls of bpjs/peserta
 *
 *   142 calls, 6 4xx, 6 5xx; histogram 46 20 40 20 5 3 1 1 0 0 6:
 *   p50 rank 71 → ≤ 25 ms; p95 rank 135 → ≤ 500 ms; p99 rank 141 → +Inf (null)
 *
 *   probes 09:00–09:59, one a minute: 10 up, 5 down, 20 up, 3 down, 22 up → 52/60,
 *   incidents 09:10–09:15 (5 probes, 300 s) and 09:35–09:38 (3 probes, 180 s)
 *
 *   broker, topic disdukcapil/kelahiran: accepted 12, duplicate 2, delivered 20, failed 3,
 *   dead-lettered 1
 */
const FROM = '2026-03-01T00:00:00Z';
const TO = '2026-03-02T00:00:00Z';
const EMPTY = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const first = (n: number) => [n, ...EMPTY.slice(1)];

describe('the monev report', () => {
  let r: TestRegistry;
  let dinkesApp: string;
  let bpjsApp: string;

  const record = (input: {
    minute: string;
    org?: string;
    api?: string;
    version?: string;
    app: string;
    statusClass: string;
    count: number;
    latency: number[];
    kind?: 'event';
    outcome?: string;
    id?: string;
  }) => ({
    v: 1,
    recordId: createHash('sha256')
      .update(input.id ?? randomUUID())
      .digest('hex'),
    instanceId: 'gw-test-1',
    minute: input.minute,
    routeId: 'route-id',
    org: input.org ?? 'disdukcapil',
    api: input.api ?? 'kependudukan',
    version: input.version ?? 'v1',
    applicationId: input.app,
    issuer: input.app ? 'http://registry.test' : '',
    statusClass: input.statusClass,
    count: input.count,
    bytesIn: 0,
    bytesOut: input.count * 100,
    latency: input.latency,
    ...(input.kind ? { kind: input.kind, outcome: input.outcome } : {}),
  });

  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_PROBE_SECONDS: '0' } });
    const { versionId } = await insertSlaVersion(r, { org: 'disdukcapil', api: 'kependudukan' });
    await insertSlaVersion(r, { org: 'bpjs', api: 'peserta' });
    dinkesApp = randomUUID();
    bpjsApp = randomUUID();
    await r.db.query(
      `INSERT INTO organisations (id, slug, name, kind) VALUES ($1, 'dinkes', 'Dinas Kesehatan', 'perangkat-daerah')`,
      [randomUUID()],
    );
    await r.db.query(
      `INSERT INTO applications (id, org_id, slug, name) SELECT $1, id, 'sistem-rujukan', 'Sistem Rujukan' FROM organisations WHERE slug = 'dinkes'`,
      [dinkesApp],
    );
    await r.db.query(
      `INSERT INTO applications (id, org_id, slug, name) SELECT $1, id, 'klaim', 'Klaim' FROM organisations WHERE slug = 'bpjs'`,
      [bpjsApp],
    );
    await insertProbes(r, versionId, new Date('2026-03-01T09:00:00Z'), [
      ...Array(10).fill(true),
      ...Array(5).fill(false),
      ...Array(20).fill(true),
      ...Array(3).fill(false),
      ...Array(22).fill(true),
    ]);

    const at10 = '2026-03-01T10:00:00.000Z';
    const records = [
      record({
        minute: at10,
        app: dinkesApp,
        statusClass: '2xx',
        count: 90,
        latency: [10, 20, 30, 20, 5, 3, 1, 1, 0, 0, 0],
        id: 'first',
      }),
      record({ minute: at10, app: dinkesApp, statusClass: '5xx', count: 6, latency: [...EMPTY.slice(1), 6] }),
      record({ minute: at10, app: bpjsApp, statusClass: '2xx', count: 30, latency: first(30) }),
      record({ minute: at10, app: bpjsApp, statusClass: '4xx', count: 4, latency: first(4) }),
      record({ minute: at10, app: '', statusClass: '4xx', count: 2, latency: first(2) }),
      record({
        minute: '2026-03-01T11:00:00.000Z',
        app: dinkesApp,
        statusClass: '2xx',
        count: 10,
        latency: [0, 0, 10, ...EMPTY.slice(3)],
      }),
      record({
        minute: at10,
        app: dinkesApp,
        statusClass: '2xx',
        count: 90,
        latency: [10, 20, 30, 20, 5, 3, 1, 1, 0, 0, 0],
        id: 'first',
      }),
      record({
        minute: '2026-04-01T10:00:00.000Z',
        app: dinkesApp,
        statusClass: '2xx',
        count: 1000,
        latency: first(1000),
      }),
      record({
        minute: at10,
        org: 'bpjs',
        api: 'peserta',
        app: dinkesApp,
        statusClass: '2xx',
        count: 50,
        latency: first(50),
      }),
      ...(
        [
          ['accepted', '2xx', 12],
          ['duplicate', '2xx', 2],
          ['delivered', '2xx', 20],
          ['failed', '5xx', 3],
          ['dead-lettered', '5xx', 1],
        ] as const
      ).map(([outcome, statusClass, count]) =>
        record({
          minute: at10,
          api: 'kelahiran',
          version: 'events',
          app: dinkesApp,
          statusClass,
          count,
          latency: first(count),
          kind: 'event',
          outcome,
        }),
      ),
    ];
    for (const rec of records)
      await r.redis.xadd(r.ctx.keys.usageStream, '*', USAGE_STREAM_FIELD, JSON.stringify(rec));
    const db = r.db;
    await waitFor('the ingester to store every record', async () => {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_minutes');
      return row!.n === 13;
    });
  }, 60_000);
  afterAll(async () => r?.close());

  const monev = async (query: string, headers: Record<string, string> = {}, token?: string) =>
    r.app.inject({
      method: 'GET',
      url: `/v1/reports/monev?from=${FROM}&to=${TO}${query}`,
      headers: { ...bearer(token ?? (await r.operatorToken())), ...headers },
    });

  it('adds up calls, errors, latency, availability, incidents and consumers exactly', async () => {
    const res = await monev('&org=disdukcapil');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report.org).toBe('disdukcapil');
    expect(report.apis).toEqual([
      {
        org: 'disdukcapil',
        api: 'kependudukan',
        version: 'v1',
        state: 'published',
        calls: 142,
        clientErrors: 6,
        serverErrors: 6,
        errorRate: 6 / 142,
        latencyMs: { p50: 25, p95: 500, p99: null },
        slaTarget: 95,
        probes: 60,
        probesUp: 52,
        probesExcluded: 0,
        availability: 52 / 60,
        meetsTarget: false,
        incidents: [
          {
            start: '2026-03-01T09:10:00.000Z',
            end: '2026-03-01T09:15:00.000Z',
            durationSeconds: 300,
            probes: 5,
          },
          {
            start: '2026-03-01T09:35:00.000Z',
            end: '2026-03-01T09:38:00.000Z',
            durationSeconds: 180,
            probes: 3,
          },
        ],
        topConsumers: [
          { application: 'dinkes/sistem-rujukan', calls: 106 },
          { application: 'bpjs/klaim', calls: 34 },
          { application: '(no application)', calls: 2 },
        ],
      },
    ]);
    expect(report.topics).toEqual([
      {
        org: 'disdukcapil',
        topic: 'kelahiran',
        events: 12,
        deliveries: 20,
        failedDeliveries: 3,
        deadLetters: 1,
        refused: 0,
      },
    ]);
    expect(report.topicsNote).toBeNull();
  });

  it('covers the whole hub without org, and says so when no broker records exist', async () => {
    const hub = (await monev('')).json();
    expect(hub.org).toBeNull();
    expect(
      hub.apis.map((a: { org: string; api: string; calls: number }) => [`${a.org}/${a.api}`, a.calls]),
    ).toEqual([
      ['bpjs/peserta', 50],
      ['disdukcapil/kependudukan', 142],
    ]);
    const bpjs = (await monev('&org=bpjs')).json();
    expect(bpjs.topics).toEqual([]);
    expect(bpjs.topicsNote).toMatch(/No broker usage records/);
    expect(bpjs.apis[0]).toMatchObject({ probes: 0, availability: null, meetsTarget: null, incidents: [] });
  });

  it('answers CSV for format=csv or Accept: text/csv', async () => {
    const res = await monev('&org=disdukcapil&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'section,org,name,version,state,calls,client_errors,server_errors,error_rate,p50_ms,p95_ms,p99_ms,probes,probes_up,probes_excluded,availability,sla_target,meets_target,incidents,down_seconds,top_consumers,events,deliveries,failed_deliveries,dead_letters,refused',
    );
    expect(lines[1]).toBe(
      `api,disdukcapil,kependudukan,v1,published,142,6,6,${6 / 142},25,500,,60,52,0,${52 / 60},0.95,false,2,480,dinkes/sistem-rujukan:106 bpjs/klaim:34 (no application):2,,,,,`,
    );
    expect(lines[2]).toBe('topic,disdukcapil,kelahiran,,,,,,,,,,,,,,,,,,,12,20,3,1,0');
    const negotiated = await monev('&org=disdukcapil', { accept: 'text/csv' });
    expect(negotiated.body).toBe(res.body);
  });

  it('answers a printable HTML page with nothing external', async () => {
    const res = await monev('&org=disdukcapil', { accept: 'text/html' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(res.body).toContain('data-api="disdukcapil/kependudukan/v1"');
    expect(res.body).toContain('BKS 60(3)(m)');
    expect(res.body).not.toMatch(/<script|<link|src=|https?:\/\//);
  });

  it('lets a publisher read its own organisation only', async () => {
    const publisher = (await r.person({ org: 'disdukcapil', roles: ['publisher'] })).token;
    expect((await monev('&org=disdukcapil', {}, publisher)).statusCode).toBe(200);
    expect((await monev('&org=bpjs', {}, publisher)).statusCode).toBe(403);
    expect((await monev('', {}, publisher)).statusCode).toBe(403);
    const consumer = (await r.person({ org: 'dinkes', roles: ['consumer'] })).token;
    expect((await monev('&org=dinkes', {}, consumer)).statusCode).toBe(403);
  });
});
