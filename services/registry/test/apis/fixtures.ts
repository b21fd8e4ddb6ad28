import type { TestRegistry } from '../helpers/test-registry.js';
import { bearer } from '../helpers/test-registry.js';

/**
 * A realistic OpenAPI 3.1 document in YAML: a permit (perizinan) lookup of a Perangkat
 * Daerah. The applicant's NIK and address are restricted data (`dikecualikan`), once in a
 * component schema and once inline in a request body.
 */
export const PERIZINAN_YAML = `openapi: 3.1.0
info:
  title: Layanan Perizinan Usaha
  version: v1
  description: Status izin usaha yang diterbitkan DPMPTSP Kota Contoh.
paths:
  /izin/{nomor}:
    get:
      operationId: getIzin
      parameters:
        - name: nomor
          in: path
          required: true
          schema: { type: string, pattern: '^[0-9A-Z/-]{5,40}$' }
      responses:
        '200':
          description: Data izin
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Izin' }
        '404':
          description: Tidak ditemukan
  /izin:
    post:
      operationId: ajukanIzin
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [nik, jenisUsaha]
              properties:
                nik:
                  type: string
                  pattern: '^[0-9]{16}$'
                  x-spl-classification: dikecualikan
                jenisUsaha: { type: string }
      responses:
        '201':
          description: Diterima
components:
  schemas:
    Izin:
      type: object
      properties:
        nomor: { type: string }
        status: { type: string, enum: [diajukan, diterbitkan, dicabut] }
        pemohon:
          type: object
          properties:
            nama: { type: string }
            alamat:
              type: string
              x-spl-classification: dikecualikan
`;

export const SECRET_HEADER_VALUE = 'upstream-header-secret-d41d8cd98f00b204';

export function versionBody(version = 'v1', overrides: Record<string, unknown> = {}) {
  return {
    version,
    openapi: PERIZINAN_YAML,
    upstream: { urls: ['https://perizinan.contoh.go.id/api'], timeoutMs: 5000 },
    upstreamAuth: { kind: 'header', name: 'X-Api-Key', value: SECRET_HEADER_VALUE },
    plan: { requestsPerMinute: 600, burst: 100 },
    ...overrides,
  };
}

export function apiBody(slug: string, overrides: Record<string, unknown> = {}) {
  return {
    slug,
    name: `Layanan ${slug}`,
    description: 'Layanan data untuk Perangkat Daerah',
    tags: ['perizinan'],
    classification: 'terbatas',
    contact: { name: 'Bidang Data', email: 'data@contoh.go.id' },
    satuData: { produsenData: 'DPMPTSP', walidata: 'Diskominfo', jadwalPemutakhiran: 'harian' },
    ...overrides,
  };
}

/** Registers an API as the bootstrap operator; fails the test on anything but 201. */
export async function createApi(
  r: TestRegistry,
  org: string,
  slug: string,
  overrides: Record<string, unknown> = {},
) {
  const res = await r.app.inject({
    method: 'POST',
    url: `/v1/organisations/${org}/apis`,
    headers: bearer(await r.operatorToken()),
    payload: apiBody(slug, overrides),
  });
  if (res.statusCode !== 201) throw new Error(`api ${org}/${slug}: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function createVersion(
  r: TestRegistry,
  org: string,
  api: string,
  version = 'v1',
  overrides: Record<string, unknown> = {},
) {
  const res = await r.app.inject({
    method: 'POST',
    url: `/v1/apis/${org}/${api}/versions`,
    headers: bearer(await r.operatorToken()),
    payload: versionBody(version, overrides),
  });
  if (res.statusCode !== 201)
    throw new Error(`version ${org}/${api}/${version}: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function countRows(r: TestRegistry, table: string): Promise<number> {
  const [row] = await r.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return Number(row!.n);
}
