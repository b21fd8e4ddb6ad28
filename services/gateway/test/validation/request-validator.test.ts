import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  compileRequestValidator,
  type RequestToValidate,
  type ValidationOutcome,
} from '../../src/validation/request-validator.js';
import { kependudukan31, NIK, perizinan30 } from './fixtures.js';

function request(
  overrides: Partial<RequestToValidate> & { json?: unknown; text?: string },
): RequestToValidate {
  const { json, text, ...rest } = overrides;
  const body =
    json !== undefined
      ? Buffer.from(JSON.stringify(json))
      : text !== undefined
        ? Buffer.from(text)
        : undefined;
  return {
    method: 'GET',
    path: '/status',
    query: new URLSearchParams(),
    headers: {},
    body,
    contentType: json !== undefined ? 'application/json' : undefined,
    ...rest,
  };
}

function failure(outcome: ValidationOutcome) {
  if (outcome.ok) throw new Error('expected the request to be refused');
  return outcome;
}

describe('a validator compiled from an OpenAPI 3.1 document', () => {
  const validator = compileRequestValidator(kependudukan31);

  it('compiles the whole document without problems', () => {
    expect(validator.problems).toEqual([]);
  });

  it('accepts a lookup by a well-formed NIK', () => {
    expect(validator.validate(request({ path: `/penduduk/${NIK}` }))).toEqual({ ok: true });
  });

  it('refuses a NIK that is not 16 digits, pointing at the path parameter without echoing it', () => {
    const bad = '32990101018500';
    const outcome = failure(validator.validate(request({ path: `/penduduk/${bad}` })));
    expect(outcome.status).toBe(400);
    expect(outcome.errors).toEqual([{ pointer: '/path/nik', message: 'must match pattern "^[0-9]{16}$"' }]);
    expect(JSON.stringify(outcome)).not.toContain(bad);
  });

  it('prefers a concrete path over a templated one', () => {
    // `statistik` would fail the NIK pattern if it reached `/penduduk/{nik}`.
    expect(validator.validate(request({ path: '/penduduk/statistik' }))).toEqual({ ok: true });
  });

  it('matches a path segment that mixes a template with literal text', () => {
    expect(validator.validate(request({ path: '/dokumen/42.pdf' }))).toEqual({ ok: true });
    expect(failure(validator.validate(request({ path: '/dokumen/42.docx' }))).errors).toEqual([
      { pointer: '/path/format', message: 'must be equal to one of the allowed values' },
    ]);
    expect(failure(validator.validate(request({ path: '/dokumen/abc.pdf' }))).errors[0]?.pointer).toBe(
      '/path/id',
    );
  });

  it('refuses a path parameter that is not valid percent-encoding', () => {
    const outcome = failure(validator.validate(request({ path: '/penduduk/%E0%A4%A' })));
    expect(outcome.errors).toEqual([{ pointer: '/path/nik', message: 'is not valid percent-encoding' }]);
  });

  it('accepts a list query, coercing numbers and collecting a repeated array parameter', () => {
    const query = new URLSearchParams(
      'kecamatan=Contoh+Utara&limit=50&offset=0&jenisKelamin=PEREMPUAN&jenisKelamin=LAKI-LAKI',
    );
    expect(validator.validate(request({ path: '/penduduk', query }))).toEqual({ ok: true });
  });

  it('refuses a list query without its required parameter', () => {
    const outcome = failure(
      validator.validate(request({ path: '/penduduk', query: new URLSearchParams('limit=5') })),
    );
    expect(outcome).toEqual({
      ok: false,
      status: 400,
      errors: [{ pointer: '/query/kecamatan', message: 'is required' }],
    });
  });

  it('refuses a query parameter of the wrong type or out of range', () => {
    const notANumber = new URLSearchParams('kecamatan=Utara&limit=sepuluh');
    expect(failure(validator.validate(request({ path: '/penduduk', query: notANumber }))).errors).toEqual([
      { pointer: '/query/limit', message: 'must be integer' },
    ]);
    const tooMany = new URLSearchParams('kecamatan=Utara&limit=1000');
    expect(failure(validator.validate(request({ path: '/penduduk', query: tooMany }))).errors).toEqual([
      { pointer: '/query/limit', message: 'must be <= 100' },
    ]);
    const badItem = new URLSearchParams('kecamatan=Utara&jenisKelamin=PEREMPUAN&jenisKelamin=X');
    expect(failure(validator.validate(request({ path: '/penduduk', query: badItem }))).errors).toEqual([
      { pointer: '/query/jenisKelamin/1', message: 'must be equal to one of the allowed values' },
    ]);
  });

  it('refuses a non-array query parameter given twice, as the upstream might read the other copy', () => {
    const query = new URLSearchParams('kecamatan=Utara&kecamatan=Selatan');
    expect(failure(validator.validate(request({ path: '/penduduk', query }))).errors).toEqual([
      { pointer: '/query/kecamatan', message: 'must be given once' },
    ]);
  });

  it('accepts a valid verification body, also as a +json media type with parameters', () => {
    const json = { nik: NIK, nama: 'Siti Aminah', tanggalLahir: null };
    expect(validator.validate(request({ method: 'POST', path: '/verifikasi', json }))).toEqual({ ok: true });
    const vendor = request({ method: 'POST', path: '/verifikasi', json: { nik: 'x', nama: 'y' } });
    vendor.contentType = 'Application/Vnd.SPL.Verifikasi+JSON; charset=utf-8';
    expect(failure(validator.validate(vendor)).errors).toEqual([
      { pointer: '/body/nik', message: 'must match pattern "^[0-9]{16}$"' },
    ]);
  });

  it('refuses a body field the schema does not declare when additionalProperties is false', () => {
    const json = { nik: NIK, nama: 'Siti Aminah', alamat: 'Jl. Contoh 1' };
    const outcome = failure(validator.validate(request({ method: 'POST', path: '/verifikasi', json })));
    expect(outcome).toEqual({
      ok: false,
      status: 400,
      errors: [{ pointer: '/body', message: 'must NOT have additional properties' }],
    });
    expect(JSON.stringify(outcome)).not.toContain('alamat');
  });

  it('refuses a body with a wrongly typed field and one missing a required field', () => {
    const wrongType = request({ method: 'POST', path: '/verifikasi', json: { nik: NIK, nama: 7 } });
    expect(failure(validator.validate(wrongType)).errors).toEqual([
      { pointer: '/body/nama', message: 'must be string' },
    ]);
    const missing = request({ method: 'POST', path: '/verifikasi', json: { nik: NIK } });
    expect(failure(validator.validate(missing)).errors).toEqual([
      { pointer: '/body/nama', message: 'is required' },
    ]);
  });

  it('refuses invalid JSON without quoting any of it', () => {
    const text = `{"nik": "${NIK}", "nama": `;
    const outcome = failure(
      validator.validate(
        request({ method: 'POST', path: '/verifikasi', text, contentType: 'application/json' }),
      ),
    );
    expect(outcome).toEqual({
      ok: false,
      status: 400,
      errors: [{ pointer: '/body', message: 'is not valid JSON' }],
    });
    expect(JSON.stringify(outcome)).not.toContain(NIK);
  });

  it('answers 415 for a content type the operation does not declare, or none at all', () => {
    const xml = request({
      method: 'POST',
      path: '/verifikasi',
      text: '<nik/>',
      contentType: 'application/xml',
    });
    expect(validator.validate(xml)).toEqual({
      ok: false,
      status: 415,
      errors: [
        {
          pointer: '/headers/content-type',
          message: 'the operation accepts application/json, application/vnd.spl.verifikasi+json, text/csv',
        },
      ],
      accept: ['application/json', 'application/vnd.spl.verifikasi+json', 'text/csv'],
    });
    const none = request({ method: 'POST', path: '/verifikasi', text: '{}' });
    expect(failure(validator.validate(none)).status).toBe(415);
  });

  it('passes a declared media type other than JSON without validating it', () => {
    const csv = request({
      method: 'POST',
      path: '/verifikasi',
      text: 'nik,nama\n1,2',
      contentType: 'text/csv',
    });
    expect(validator.validate(csv)).toEqual({ ok: true });
  });

  it('refuses a missing body when the operation requires one', () => {
    expect(validator.validate(request({ method: 'POST', path: '/verifikasi' }))).toEqual({
      ok: false,
      status: 400,
      errors: [{ pointer: '/body', message: 'is required' }],
    });
  });

  it('answers 405 with the allowed methods when the path does not declare the method', () => {
    expect(validator.validate(request({ method: 'DELETE', path: `/penduduk/${NIK}` }))).toEqual({
      ok: false,
      status: 405,
      errors: [{ pointer: '/method', message: 'the path does not declare this method' }],
      allow: ['GET'],
    });
  });

  it('answers 400 at /path when no path of the document matches', () => {
    for (const path of ['/tidak-ada', '/penduduk/', `/penduduk/${NIK}/keluarga`, 'status']) {
      expect(validator.validate(request({ path }))).toEqual({
        ok: false,
        status: 400,
        errors: [{ pointer: '/path', message: 'no operation of the API matches this path' }],
      });
    }
  });

  it('shows an undeclared object key in a pointer as * so a map keyed by NIK does not leak', () => {
    const json = { [NIK]: { nama: 12 } };
    const outcome = failure(
      validator.validate(request({ method: 'POST', path: '/verifikasi/massal', json })),
    );
    expect(outcome.errors).toEqual([{ pointer: '/body/*/nama', message: 'must be string' }]);
  });

  it('never echoes the NIK in any refusal', () => {
    const refusals = [
      request({ path: `/penduduk/${NIK}0` }),
      request({ path: `/penduduk/${NIK}`, method: 'PUT' }),
      request({ path: `/tidak/${NIK}` }),
      request({ path: '/penduduk', query: new URLSearchParams(`kecamatan=${NIK}&limit=${NIK}`) }),
      request({ method: 'POST', path: '/verifikasi', json: { nik: Number(NIK), nama: 'A' } }),
      request({ method: 'POST', path: '/verifikasi', json: { nik: `${NIK}x`, nama: 'A' } }),
      request({ method: 'POST', path: '/verifikasi', json: { nik: NIK, nama: '' } }),
      request({ method: 'POST', path: '/verifikasi', json: { nik: NIK, nama: 'A', [NIK]: true } }),
      request({ method: 'POST', path: '/verifikasi', text: NIK, contentType: `application/${NIK}` }),
      request({ method: 'POST', path: '/verifikasi/massal', json: { [NIK]: 'A' } }),
    ];
    for (const r of refusals) {
      const outcome = validator.validate(r);
      expect(outcome.ok).toBe(false);
      expect(JSON.stringify(outcome)).not.toContain(NIK);
    }
  });

  it('validates against the demo API document as published', () => {
    const text = readFileSync(
      new URL('../../../../demo/openapi/kependudukan-v1.yaml', import.meta.url),
      'utf8',
    );
    const demo = compileRequestValidator(parseYaml(text) as object);
    expect(demo.problems).toEqual([]);
    expect(demo.validate(request({ path: `/penduduk/${NIK}` }))).toEqual({ ok: true });
    expect(failure(demo.validate(request({ path: '/penduduk/123' }))).errors[0]?.pointer).toBe('/path/nik');
    const json = { nik: NIK, nama: 'Siti', extra: 1 };
    expect(failure(demo.validate(request({ method: 'POST', path: '/verifikasi', json }))).status).toBe(400);
  });
});

describe('a validator compiled from an OpenAPI 3.0 document', () => {
  const validator = compileRequestValidator(perizinan30);
  const header = { 'x-kode-wilayah': '32.99' };
  const izin = { pemohon: 'CV Contoh', luas: 12.5 };

  it('compiles the whole document without problems', () => {
    expect(validator.problems).toEqual([]);
  });

  it('accepts a nullable field set to null and refuses null where nullable is absent', () => {
    const json = { ...izin, catatan: null, kategori: null, lampiran: null };
    expect(
      validator.validate(request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json })),
    ).toEqual({
      ok: true,
    });
    const bad = { ...izin, pemohon: null };
    expect(
      failure(
        validator.validate(request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json: bad })),
      ).errors,
    ).toEqual([{ pointer: '/body/pemohon', message: 'must be string' }]);
    const badRef = { ...izin, lampiran: {} };
    expect(
      failure(
        validator.validate(
          request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json: badRef }),
        ),
      ).errors,
    ).toEqual([{ pointer: '/body/lampiran/nama', message: 'is required' }]);
  });

  it('enforces the draft-04 boolean exclusiveMinimum in a body and a query', () => {
    const json = { ...izin, luas: 0 };
    expect(
      failure(validator.validate(request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json })))
        .errors,
    ).toEqual([{ pointer: '/body/luas', message: 'must be > 0' }]);
    const query = new URLSearchParams('luasMinimum=0');
    expect(failure(validator.validate(request({ path: '/izin', query }))).errors).toEqual([
      { pointer: '/query/luasMinimum', message: 'must be > 0' },
    ]);
  });

  it('does not require a readOnly property in a request body', () => {
    expect(
      validator.validate(request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json: izin })),
    ).toEqual({
      ok: true,
    });
  });

  it('resolves referenced request bodies and path-level parameters', () => {
    const extra = { ...izin, pemilik: 'x' };
    expect(
      failure(
        validator.validate(
          request({ method: 'PUT', path: '/izin/IZN-000001', headers: header, json: extra }),
        ),
      ).errors,
    ).toEqual([{ pointer: '/body', message: 'must NOT have additional properties' }]);
    expect(failure(validator.validate(request({ path: '/izin/123' }))).errors).toEqual([
      { pointer: '/path/nomor', message: 'must match pattern "^IZN-[0-9]{6}$"' },
    ]);
  });

  it('checks a required header from a referenced parameter, which the operation may override', () => {
    const put = request({ method: 'PUT', path: '/izin/IZN-000001', json: izin });
    expect(failure(validator.validate(put)).errors).toEqual([
      { pointer: '/headers/x-kode-wilayah', message: 'is required' },
    ]);
    put.headers = { 'x-kode-wilayah': '3299' };
    expect(failure(validator.validate(put)).errors[0]?.pointer).toBe('/headers/x-kode-wilayah');
    // GET declares the header optional at operation level.
    expect(validator.validate(request({ path: '/izin/IZN-000001' }))).toEqual({ ok: true });
  });

  it('reads deepObject and non-exploded array query parameters', () => {
    const good = new URLSearchParams('filter[status]=aktif&id=1,2,3&sejak=2026-01-31');
    expect(validator.validate(request({ path: '/izin', query: good }))).toEqual({ ok: true });
    const badFilter = new URLSearchParams('filter[status]=batal');
    expect(failure(validator.validate(request({ path: '/izin', query: badFilter }))).errors).toEqual([
      { pointer: '/query/filter/status', message: 'must be equal to one of the allowed values' },
    ]);
    const unknownKey = new URLSearchParams(`filter[${NIK}]=aktif`);
    expect(failure(validator.validate(request({ path: '/izin', query: unknownKey }))).errors).toEqual([
      { pointer: '/query/filter', message: 'must NOT have additional properties' },
    ]);
    const badId = new URLSearchParams('id=1,dua');
    expect(failure(validator.validate(request({ path: '/izin', query: badId }))).errors).toEqual([
      { pointer: '/query/id/1', message: 'must be integer' },
    ]);
    const badDate = new URLSearchParams('sejak=31-01-2026');
    expect(failure(validator.validate(request({ path: '/izin', query: badDate }))).errors).toEqual([
      { pointer: '/query/sejak', message: 'must match format "date"' },
    ]);
  });

  it('collects errors from the path, the headers and the body together', () => {
    const outcome = failure(
      validator.validate(request({ method: 'PUT', path: '/izin/X', json: { luas: 'besar' } })),
    );
    expect(outcome.errors.map((e) => e.pointer)).toEqual([
      '/path/nomor',
      '/headers/x-kode-wilayah',
      '/body/pemohon',
    ]);
  });
});

describe('a validator compiled lazily', () => {
  it('answers like an eager one, compiling each operation on its first request', () => {
    const lazy = compileRequestValidator(kependudukan31, { lazy: true });
    const eager = compileRequestValidator(kependudukan31);
    const requests = [
      request({ path: `/penduduk/${NIK}` }),
      request({ path: '/penduduk/12' }),
      request({ path: '/penduduk', query: new URLSearchParams('limit=0') }),
      request({ method: 'POST', path: '/verifikasi', json: { nik: NIK, nama: 'A', x: 1 } }),
      request({ method: 'PATCH', path: '/status' }),
    ];
    for (const r of requests) {
      expect(lazy.validate(r)).toEqual(eager.validate(r));
      expect(lazy.validate(r)).toEqual(eager.validate(r));
    }
  });
});

describe('documents the validator must not choke on', () => {
  it('lists a schema ajv cannot compile as a problem and leaves only that part unvalidated', () => {
    const validator = compileRequestValidator({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/a/{kode}': {
          post: {
            parameters: [
              { name: 'kode', in: 'path', required: true, schema: { type: 'string', pattern: '[\\w-.]' } },
            ],
            requestBody: {
              content: { 'application/json': { schema: { type: 'object', required: ['x'] } } },
            },
          },
        },
      },
    });
    expect(validator.problems).toHaveLength(1);
    expect(validator.problems[0]?.pointer).toBe('/paths/~1a~1{kode}/post/parameters(path)');
    const req = request({ method: 'POST', path: '/a/anything', json: {} });
    expect(failure(validator.validate(req)).errors).toEqual([{ pointer: '/body/x', message: 'is required' }]);
  });

  it('ignores x- extensions, unknown formats and a path item given by reference', () => {
    const validator = compileRequestValidator({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: { '/b': { $ref: '#/components/pathItems/B' } },
      components: {
        pathItems: {
          B: {
            get: {
              parameters: [
                {
                  name: 'q',
                  in: 'query',
                  schema: { type: 'string', format: 'nomor-kk', 'x-spl-classification': 'dikecualikan' },
                },
              ],
              'x-spl-rate': 5,
            },
          },
        },
      },
    });
    expect(validator.problems).toEqual([]);
    expect(validator.validate(request({ path: '/b', query: new URLSearchParams('q=1') }))).toEqual({
      ok: true,
    });
    expect(failure(validator.validate(request({ path: '/b', method: 'POST' }))).status).toBe(405);
  });
});
