import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_RESIDENTS } from '../src/residents.js';
import { buildDemoUpstream } from '../src/upstream-app.js';

const BUDI = DEMO_RESIDENTS[0]!;
const UNKNOWN_NIK = '3299019999990099';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(options: Parameters<typeof buildDemoUpstream>[0] = { logger: false }) {
  app = await buildDemoUpstream(options);
  return app;
}

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  return body;
}

describe('demo upstream: Disdukcapil kependudukan v1', () => {
  it('answers the status probe with 200', async () => {
    const res = await (await build()).inject({ method: 'GET', url: '/status' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', layanan: 'kependudukan', versi: 'v1' });
  });

  it('returns the full resident record for a known NIK', async () => {
    const res = await (await build()).inject({ method: 'GET', url: `/penduduk/${BUDI.nik}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(BUDI);
  });

  it('answers 404 problem+json for a NIK nobody has, without repeating the NIK', async () => {
    const res = await (await build()).inject({ method: 'GET', url: `/penduduk/${UNKNOWN_NIK}` });
    const body = expectProblem(res, 404);
    expect(body.code).toBe('SPL_PENDUDUK_NOT_FOUND');
    expect(res.body).not.toContain(UNKNOWN_NIK);
  });

  it.each(['123', '32990101018500011', '32990101018500a1'])(
    'answers 400 problem+json for the bad NIK %s',
    async (nik) => {
      const res = await (await build()).inject({ method: 'GET', url: `/penduduk/${nik}` });
      expect(expectProblem(res, 400).code).toBe('SPL_VALIDATION');
    },
  );

  it('lists the residents of a kecamatan, case-insensitively, with paging', async () => {
    const a = await build();
    const all = await a.inject({ method: 'GET', url: '/penduduk?kecamatan=contoh%20utara' });
    expect(all.statusCode).toBe(200);
    const body = all.json() as { total: number; items: Array<Record<string, unknown>> };
    const expected = DEMO_RESIDENTS.filter((p) => p.kecamatan === 'Contoh Utara');
    expect(body.total).toBe(expected.length);
    expect(body.items.map((p) => p.nik)).toEqual(expected.map((p) => p.nik));
    // The list is a summary: no address, no date of birth.
    expect(Object.keys(body.items[0]!).sort()).toEqual(['kecamatan', 'kelurahan', 'nama', 'nik']);

    const page = await a.inject({
      method: 'GET',
      url: '/penduduk?kecamatan=Contoh%20Utara&limit=1&offset=1',
    });
    expect((page.json() as { items: Array<{ nik: string }> }).items.map((p) => p.nik)).toEqual([
      expected[1]!.nik,
    ]);
  });

  it('answers an empty list for a kecamatan with nobody in it', async () => {
    const res = await (await build()).inject({ method: 'GET', url: '/penduduk?kecamatan=Tidak%20Ada' });
    expect(res.json()).toEqual({ kecamatan: 'Tidak Ada', total: 0, items: [] });
  });

  it('answers 400 problem+json when the kecamatan is missing or the limit is out of range', async () => {
    const a = await build();
    expectProblem(await a.inject({ method: 'GET', url: '/penduduk' }), 400);
    expectProblem(await a.inject({ method: 'GET', url: '/penduduk?kecamatan=Sukamulya&limit=1000' }), 400);
  });

  it('verifies a NIK and name pair, ignoring case and extra spaces', async () => {
    const a = await build();
    const match = await a.inject({
      method: 'POST',
      url: '/verifikasi',
      payload: { nik: BUDI.nik, nama: '  budi   SANTOSO ' },
    });
    expect(match.statusCode).toBe(200);
    expect(match.json()).toEqual({ cocok: true });

    const wrongName = await a.inject({
      method: 'POST',
      url: '/verifikasi',
      payload: { nik: BUDI.nik, nama: 'Siti Rahmawati' },
    });
    expect(wrongName.json()).toEqual({ cocok: false });
  });

  it('answers cocok false for an unknown NIK rather than revealing that it does not exist', async () => {
    const res = await (await build()).inject({
      method: 'POST',
      url: '/verifikasi',
      payload: { nik: UNKNOWN_NIK, nama: 'Budi Santoso' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ cocok: false });
  });

  it('answers 400 problem+json for a verification request that breaks the schema', async () => {
    const a = await build();
    expectProblem(
      await a.inject({ method: 'POST', url: '/verifikasi', payload: { nik: '12', nama: 'Budi' } }),
      400,
    );
    expectProblem(await a.inject({ method: 'POST', url: '/verifikasi', payload: { nik: BUDI.nik } }), 400);
    expectProblem(
      await a.inject({
        method: 'POST',
        url: '/verifikasi',
        payload: { nik: BUDI.nik, nama: 'Budi', extra: 1 },
      }),
      400,
    );
    expectProblem(
      await a.inject({
        method: 'POST',
        url: '/verifikasi',
        headers: { 'content-type': 'application/json' },
        payload: '{bad',
      }),
      400,
    );
  });

  it('answers problem+json for routes and media types it does not know', async () => {
    const a = await build();
    expectProblem(await a.inject({ method: 'GET', url: '/tidak-ada' }), 404);
    expectProblem(
      await a.inject({
        method: 'POST',
        url: '/verifikasi',
        headers: { 'content-type': 'application/xml' },
        payload: '<x/>',
      }),
      415,
    );
  });

  it('never writes a NIK to its log, not even as part of a URL', async () => {
    const lines: string[] = [];
    const a = await build({ logger: { level: 'trace', stream: { write: (line) => lines.push(line) } } });
    await a.inject({ method: 'GET', url: `/penduduk/${BUDI.nik}` });
    await a.inject({ method: 'GET', url: `/penduduk/${UNKNOWN_NIK}` });
    await a.inject({ method: 'POST', url: '/verifikasi', payload: { nik: BUDI.nik, nama: BUDI.nama } });
    const log = lines.join('');
    expect(log).toContain('/penduduk/[nik]');
    expect(log).not.toContain(BUDI.nik);
    expect(log).not.toContain(UNKNOWN_NIK);
  });
});
