import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsageRecords } from '../../src/usage/insert-usage-records.js';
import type { UsageRecordJson } from '../../src/usage/usage-record.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

const record = (over: Partial<UsageRecordJson>): UsageRecordJson => ({
  v: 1,
  recordId: over.recordId ?? 'a'.repeat(64),
  instanceId: 'gw-1',
  minute: '2025-03-01T10:00:00.000Z',
  routeId: 'route-1',
  org: 'disdukcapil',
  api: 'kependudukan',
  version: 'v1',
  applicationId: 'app-1',
  issuer: 'http://registry.test',
  statusClass: '2xx',
  count: 1,
  bytesIn: 10,
  bytesOut: 20,
  latency: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ...over,
});

describe('GET /v1/usage', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await buildTestRegistry();
    await reg.organisation('disdukcapil');
    await reg.organisation('dinkes');
    await reg.db.transaction((tx) =>
      insertUsageRecords(tx, [
        record({ recordId: '1'.repeat(64), count: 3, latency: [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }),
        record({
          recordId: '2'.repeat(64),
          instanceId: 'gw-2',
          count: 2,
          latency: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        }),
        record({
          recordId: '3'.repeat(64),
          minute: '2025-03-01T10:59:00.000Z',
          count: 5,
          latency: [0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        }),
        record({
          recordId: '4'.repeat(64),
          minute: '2025-03-01T11:00:00.000Z',
          statusClass: '5xx',
          count: 7,
        }),
        record({ recordId: '5'.repeat(64), org: 'dinkes', api: 'rujukan', count: 100 }),
      ]),
    );
  });
  afterAll(() => reg?.close());

  const url = (q: string) =>
    `/v1/usage?org=disdukcapil&from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z${q}`;

  it('sums the minutes of every gateway process per hour, histogram element by element', async () => {
    const res = await reg.app.inject({
      method: 'GET',
      url: url(''),
      headers: bearer(await reg.operatorToken()),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.latencyBucketsMs).toHaveLength(10);
    expect(body.items).toEqual([
      expect.objectContaining({
        at: '2025-03-01T10:00:00.000Z',
        statusClass: '2xx',
        count: 10,
        bytesIn: 30,
        bytesOut: 60,
        latency: [3, 5, 0, 0, 0, 0, 0, 0, 0, 0, 2],
      }),
      expect.objectContaining({ at: '2025-03-01T11:00:00.000Z', statusClass: '5xx', count: 7 }),
    ]);
  });

  it('keeps minutes apart with granularity=minute', async () => {
    const res = await reg.app.inject({
      method: 'GET',
      url: url('&granularity=minute'),
      headers: bearer(await reg.operatorToken()),
    });
    expect(res.json().items.map((i: { at: string; count: number }) => [i.at, i.count])).toEqual([
      ['2025-03-01T10:00:00.000Z', 5],
      ['2025-03-01T10:59:00.000Z', 5],
      ['2025-03-01T11:00:00.000Z', 7],
    ]);
  });

  it('lets a publisher read its own organisation only', async () => {
    const own = await reg.person({ org: 'disdukcapil', roles: ['publisher'] });
    const other = await reg.person({ org: 'dinkes', roles: ['publisher'] });
    expect(
      (await reg.app.inject({ method: 'GET', url: url(''), headers: bearer(own.token) })).statusCode,
    ).toBe(200);
    expect(
      (await reg.app.inject({ method: 'GET', url: url(''), headers: bearer(other.token) })).statusCode,
    ).toBe(403);
  });

  it('refuses an empty or too long range', async () => {
    const token = await reg.operatorToken();
    const backwards = await reg.app.inject({
      method: 'GET',
      url: '/v1/usage?org=disdukcapil&from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z',
      headers: bearer(token),
    });
    expect(backwards.statusCode).toBe(400);
    const long = await reg.app.inject({
      method: 'GET',
      url: '/v1/usage?org=disdukcapil&from=2025-03-01T00:00:00Z&to=2025-03-05T00:00:00Z&granularity=minute',
      headers: bearer(token),
    });
    expect(long.statusCode).toBe(400);
  });
});
