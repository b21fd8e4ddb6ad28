import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLog } from '../../src/observability/access-log.js';
import { compileUrlMasker, maskPersonalData } from '../../src/observability/mask-personal-data.js';

describe('masking personal data in logged paths and query strings', () => {
  it.each([
    ['/penduduk/3201234567890001', '/penduduk/[nik]'],
    ['/penduduk?nik=3201234567890001&fields=nama', '/penduduk?nik=[nik]&fields=nama'],
    ['/wajib-pajak/12.345.678.9-012.345', '/wajib-pajak/[npwp]'],
    ['/wajib-pajak/123456789012345', '/wajib-pajak/[npwp]'],
    ['/wajib-pajak/12-345-678-9-012-345/spt', '/wajib-pajak/[npwp]/spt'],
    ['/wajib-pajak/0012.3456.7890.1234', '/wajib-pajak/[npwp]'],
    ['/kontak?hp=081234567890', '/kontak?hp=[phone]'],
    ['/kontak?hp=%2B6281234567890', '/kontak?hp=[phone]'],
    ['/kontak?hp=+62812345678', '/kontak?hp=[phone]'],
    ['/kontak/0812-3456-7890', '/kontak/[phone]'],
    ['/kontak?email=budi.santoso@example.go.id', '/kontak?email=[email]'],
    ['/kontak?email=budi%40example.co.id&x=1', '/kontak?email=[email]&x=1'],
    ['/a/3201234567890001/b/081234567890?m=siti@dinas.id', '/a/[nik]/b/[phone]?m=[email]'],
  ])('masks %s', (input, expected) => {
    expect(maskPersonalData(input)).toBe(expected);
  });

  it.each([
    ['a UUID', '/laporan/550e8400-e29b-41d4-a716-446655440000'],
    ['a UUID full of digits', '/laporan/12345678-1234-4123-8123-123456789012'],
    ['an ISO timestamp', '/jadwal?sejak=2026-11-05T10:20:30.123Z'],
    ['an epoch in milliseconds', '/jadwal?sejak=1793873230123'],
    ['a SHA-256 digest', '/dokumen/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a short number', '/faskes/3201/kamar/12'],
    ['a 17-digit number', '/antrian/12345678901234567'],
  ])('leaves %s alone', (_what, input) => {
    expect(maskPersonalData(input)).toBe(input);
  });

  it('returns the very input string when nothing matches', () => {
    const input = '/faskes/v1/rumah-sakit?kota=bandung';
    expect(maskPersonalData(input)).toBe(input);
  });

  it('masks the values of a route’s restricted query parameters, whatever they look like', () => {
    const maskUrl = compileUrlMasker(['nama_ibu', 'diagnosis']);
    expect(maskUrl('/pasien?nama_ibu=Siti%20Aminah&kota=bandung&diagnosis=J18.9')).toBe(
      '/pasien?nama_ibu=[dikecualikan]&kota=bandung&diagnosis=[dikecualikan]',
    );
    expect(maskUrl('/pasien?kota=bandung&nik=3201234567890001')).toBe('/pasien?kota=bandung&nik=[nik]');
    // Only a whole parameter name matches.
    expect(maskUrl('/pasien?nama_ibu_kota=x')).toBe('/pasien?nama_ibu_kota=x');
  });
});

describe('the access log', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    return { lines, destination };
  }

  it('writes one JSON line per request with the route, application, status, latencies and bytes', () => {
    const { lines, destination } = capture();
    const log = createAccessLog({ destination });
    log.write(
      {
        requestId: 'req-1',
        org: 'disdukcapil',
        api: 'penduduk',
        version: 'v2',
        application: 'portal-warga',
        method: 'GET',
        url: '/disdukcapil/penduduk/v2/warga/3201234567890001?nama_ibu=Siti&hp=081234567890',
        status: 200,
        durationMs: 4.2,
        upstreamMs: 3.1,
        bytesIn: 0,
        bytesOut: 512,
        clientIp: '203.0.113.9',
      },
      compileUrlMasker(['nama_ibu']),
    );

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      reqId: 'req-1',
      org: 'disdukcapil',
      api: 'penduduk',
      version: 'v2',
      application: 'portal-warga',
      method: 'GET',
      url: '/disdukcapil/penduduk/v2/warga/[nik]?nama_ibu=[dikecualikan]&hp=[phone]',
      status: 200,
      durationMs: 4.2,
      upstreamMs: 3.1,
      bytesIn: 0,
      bytesOut: 512,
      clientIp: '203.0.113.9',
    });
    expect(typeof lines[0]!.time).toBe('number');
  });

  it('logs only its allow-list: a token or header passed along never reaches the line', () => {
    const { lines, destination } = capture();
    const log = createAccessLog({ destination });
    const entry = {
      requestId: 'req-2',
      method: 'POST',
      url: '/x/y/v1/z',
      status: 401,
      durationMs: 0.3,
      bytesIn: 10,
      bytesOut: 90,
      clientIp: '198.51.100.4',
      authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.secret.sig',
      headers: { 'x-api-key': 'rahasia' },
    };
    log.write(entry);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain('rahasia');
    expect(lines[0]).not.toHaveProperty('application');
  });
});
