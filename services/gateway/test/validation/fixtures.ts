/**
 * Two OpenAPI documents as the snapshot carries them (parsed JSON):
 *
 * - `kependudukan31`: the shape of demo/openapi/kependudukan-v1.yaml (3.1), plus a static path
 *   beside a templated one, a mixed template segment, a `+json` and a CSV media type, and a
 *   map keyed by NIK.
 * - `perizinan30`: a 3.0 document with `nullable`, draft-04 `exclusiveMinimum`, referenced
 *   parameters and request bodies, path-level parameters, a required header and a readOnly
 *   required property.
 */

export const NIK = '3299010101850001';

export const kependudukan31 = {
  openapi: '3.1.0',
  info: { title: 'Layanan Data Kependudukan', version: 'v1' },
  paths: {
    '/penduduk/{nik}': {
      get: {
        operationId: 'getPenduduk',
        parameters: [{ $ref: '#/components/parameters/Nik' }],
        responses: { '200': { description: 'Data penduduk' } },
      },
    },
    '/penduduk/statistik': {
      get: { operationId: 'getStatistik', responses: { '200': { description: 'Statistik' } } },
    },
    '/penduduk': {
      get: {
        operationId: 'listPenduduk',
        parameters: [
          {
            name: 'kecamatan',
            in: 'query',
            required: true,
            schema: { type: 'string', minLength: 1, maxLength: 100 },
          },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          {
            name: 'jenisKelamin',
            in: 'query',
            schema: { type: 'array', items: { type: 'string', enum: ['LAKI-LAKI', 'PEREMPUAN'] } },
          },
        ],
        responses: { '200': { description: 'Penduduk di kecamatan tersebut' } },
      },
    },
    '/verifikasi': {
      post: {
        operationId: 'verifikasiNik',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/PermintaanVerifikasi' } },
            'application/vnd.spl.verifikasi+json': {
              schema: { $ref: '#/components/schemas/PermintaanVerifikasi' },
            },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        responses: { '200': { description: 'Hasil verifikasi' } },
      },
    },
    '/verifikasi/massal': {
      post: {
        operationId: 'verifikasiMassal',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                description: 'Nama per NIK',
                additionalProperties: {
                  type: 'object',
                  required: ['nama'],
                  properties: { nama: { type: 'string' } },
                },
              },
            },
          },
        },
        responses: { '200': { description: 'Hasil' } },
      },
    },
    '/dokumen/{id}.{format}': {
      get: {
        operationId: 'getDokumen',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
          { name: 'format', in: 'path', required: true, schema: { enum: ['pdf', 'json'] } },
        ],
        responses: { '200': { description: 'Dokumen' } },
      },
    },
    '/status': {
      get: { operationId: 'getStatus', responses: { '200': { description: 'Layanan berjalan' } } },
    },
  },
  components: {
    parameters: {
      Nik: {
        name: 'nik',
        in: 'path',
        required: true,
        description: 'Nomor Induk Kependudukan, 16 digit',
        schema: { $ref: '#/components/schemas/Nik' },
      },
    },
    schemas: {
      Nik: {
        type: 'string',
        pattern: '^[0-9]{16}$',
        examples: ['3299010101850001'],
      },
      PermintaanVerifikasi: {
        type: 'object',
        additionalProperties: false,
        required: ['nik', 'nama'],
        properties: {
          nik: {
            type: 'string',
            pattern: '^[0-9]{16}$',
            'x-spl-classification': 'dikecualikan',
          },
          nama: { type: 'string', minLength: 1, maxLength: 200 },
          tanggalLahir: { type: ['string', 'null'], format: 'date' },
        },
      },
    },
  },
} as const;

export const perizinan30 = {
  openapi: '3.0.3',
  info: { title: 'Layanan Perizinan', version: 'v2' },
  paths: {
    '/izin/{nomor}': {
      parameters: [
        { name: 'nomor', in: 'path', required: true, schema: { type: 'string', pattern: '^IZN-[0-9]{6}$' } },
        { $ref: '#/components/parameters/KodeWilayah' },
      ],
      get: {
        parameters: [
          // Overrides the path-level header: optional here.
          { name: 'X-Kode-Wilayah', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'Izin' } },
      },
      put: {
        requestBody: { $ref: '#/components/requestBodies/Izin' },
        responses: { '200': { description: 'Izin diubah' } },
      },
    },
    '/izin': {
      get: {
        parameters: [
          {
            name: 'luasMinimum',
            in: 'query',
            schema: { type: 'number', minimum: 0, exclusiveMinimum: true },
          },
          { name: 'sejak', in: 'query', schema: { type: 'string', format: 'date' } },
          {
            name: 'filter',
            in: 'query',
            style: 'deepObject',
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: { status: { type: 'string', enum: ['aktif', 'dicabut'] } },
            },
          },
          { name: 'id', in: 'query', explode: false, schema: { type: 'array', items: { type: 'integer' } } },
        ],
        responses: { '200': { description: 'Daftar izin' } },
      },
    },
  },
  components: {
    parameters: {
      KodeWilayah: {
        name: 'X-Kode-Wilayah',
        in: 'header',
        required: true,
        schema: { type: 'string', pattern: '^[0-9]{2}\\.[0-9]{2}$' },
      },
    },
    requestBodies: {
      Izin: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Izin' } } },
      },
    },
    schemas: {
      Izin: {
        type: 'object',
        additionalProperties: false,
        required: ['nomor', 'pemohon', 'luas'],
        properties: {
          nomor: { type: 'string', readOnly: true },
          pemohon: { type: 'string', example: 'CV Contoh' },
          luas: { type: 'number', minimum: 0, exclusiveMinimum: true },
          catatan: { type: 'string', nullable: true },
          kategori: { type: 'string', enum: ['mikro', 'kecil'], nullable: true },
          lampiran: { nullable: true, allOf: [{ $ref: '#/components/schemas/Lampiran' }] },
        },
      },
      Lampiran: {
        type: 'object',
        required: ['nama'],
        properties: { nama: { type: 'string' } },
        'x-spl-classification': 'terbatas',
      },
    },
  },
} as const;
