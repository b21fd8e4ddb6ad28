import { type Static, Type } from 'typebox';

/**
 * Route schemas of the demo upstream. They give validation, the handlers' types and the
 * response allow-lists; openapi/kependudukan-v1.yaml is the published contract and a test
 * checks that the two agree.
 */

export const STATUS_PERKAWINAN = ['BELUM KAWIN', 'KAWIN', 'CERAI HIDUP', 'CERAI MATI'] as const;
export const JENIS_KELAMIN = ['LAKI-LAKI', 'PEREMPUAN'] as const;

/** Nomor Induk Kependudukan: 16 digits. */
export const Nik = Type.String({ pattern: '^[0-9]{16}$', description: 'Nomor Induk Kependudukan, 16 digit' });

export const Penduduk = Type.Object({
  nik: Nik,
  nama: Type.String(),
  tempatLahir: Type.String(),
  tanggalLahir: Type.String({ format: 'date' }),
  jenisKelamin: Type.Enum(JENIS_KELAMIN),
  /** Street, RT and RW: the part of the address that is classified dikecualikan. */
  alamat: Type.String(),
  kelurahan: Type.String(),
  kecamatan: Type.String(),
  kabupatenKota: Type.String(),
  statusPerkawinan: Type.Enum(STATUS_PERKAWINAN),
  pekerjaan: Type.String(),
  kewarganegaraan: Type.Enum(['WNI', 'WNA']),
});
export type Penduduk = Static<typeof Penduduk>;

export const RingkasanPenduduk = Type.Pick(Penduduk, ['nik', 'nama', 'kelurahan', 'kecamatan']);
export type RingkasanPenduduk = Static<typeof RingkasanPenduduk>;

export const DaftarPendudukQuery = Type.Object(
  {
    kecamatan: Type.String({ minLength: 1, maxLength: 100 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

export const DaftarPenduduk = Type.Object({
  kecamatan: Type.String(),
  total: Type.Integer(),
  items: Type.Array(RingkasanPenduduk),
});

export const NikParams = Type.Object({ nik: Nik });

export const PermintaanVerifikasi = Type.Object(
  { nik: Nik, nama: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const HasilVerifikasi = Type.Object({ cocok: Type.Boolean() });

export const StatusLayanan = Type.Object({
  status: Type.Literal('ok'),
  layanan: Type.String(),
  versi: Type.String(),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String(),
    requestId: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
