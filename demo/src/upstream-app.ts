import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { problemPlugin } from '@spl/problem';
import Fastify, { type FastifyInstance } from 'fastify';
import { errors } from './errors.js';
import { DEMO_RESIDENTS } from './residents.js';
import {
  DaftarPenduduk,
  DaftarPendudukQuery,
  HasilVerifikasi,
  NikParams,
  Penduduk,
  PermintaanVerifikasi,
  Problem,
  StatusLayanan,
} from './schemas.js';
import { webhookReceiver } from './webhook-receiver.js';

export interface DemoUpstreamOptions {
  /** `false` for silence (tests). Default: pino JSON at `info` on stdout. */
  logger?: false | { level?: string; stream?: { write(line: string): void } };
  /** The residents the API answers about. Default: the eight invented residents of DEMO_RESIDENTS. */
  residents?: readonly Penduduk[];
  /** Where the demo event subscription's `whsec_…` secret is (webhook-receiver.ts). */
  webhookSecretFile?: string | undefined;
}

/** A NIK is classified dikecualikan, so it must not reach a log even as part of a URL. */
const NIK_IN_TEXT = /\d{16}/g;
function maskNik(text: string): string {
  return text.replace(NIK_IN_TEXT, '[nik]');
}

/** Names compare as the civil registry writes them: upper case, single spaces. */
function normaliseNama(nama: string): string {
  return nama.normalize('NFKC').trim().replace(/\s+/g, ' ').toUpperCase();
}

/**
 * A stand-in for Disdukcapil's population lookup API, the upstream the demo publishes
 * through the hub. It plays a Perangkat Daerah's own system, so it knows nothing of SPL
 * tokens: the gateway in front of it authenticates and authorises. Never listens;
 * upstream-server.ts does.
 */
export async function buildDemoUpstream(options: DemoUpstreamOptions = {}): Promise<FastifyInstance> {
  const residents = options.residents ?? DEMO_RESIDENTS;
  const byNik = new Map(residents.map((p) => [p.nik, p]));

  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? 'info',
            ...(options.logger?.stream ? { stream: options.logger.stream } : {}),
            serializers: {
              req: (req) => ({ method: req.method, url: maskNik(req.url), remoteAddress: req.ip }),
            },
          },
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(problemPlugin);
  await app.register(webhookReceiver, { secretFile: options.webhookSecretFile });

  app.get('/status', { schema: { summary: 'Health probe', response: { 200: StatusLayanan } } }, async () => ({
    status: 'ok' as const,
    layanan: 'kependudukan',
    versi: 'v1',
  }));

  app.get(
    '/penduduk/:nik',
    {
      schema: {
        summary: 'Data penduduk by NIK',
        params: NikParams,
        response: { 200: Penduduk, 400: Problem, 404: Problem },
      },
    },
    async (request) => {
      const penduduk = byNik.get(request.params.nik);
      // The detail does not repeat the NIK: problem bodies end up in logs downstream.
      if (!penduduk) throw errors.SPL_PENDUDUK_NOT_FOUND('tidak ada penduduk dengan NIK tersebut');
      return penduduk;
    },
  );

  app.get(
    '/penduduk',
    {
      schema: {
        summary: 'Daftar penduduk of one kecamatan',
        querystring: DaftarPendudukQuery,
        response: { 200: DaftarPenduduk, 400: Problem },
      },
    },
    async (request) => {
      const { kecamatan, limit, offset } = request.query;
      const wanted = kecamatan.trim().toLowerCase();
      const matching = residents.filter((p) => p.kecamatan.toLowerCase() === wanted);
      return {
        kecamatan,
        total: matching.length,
        items: matching.slice(offset, offset + limit),
      };
    },
  );

  app.post(
    '/verifikasi',
    {
      schema: {
        summary: 'Check that a NIK and a name belong together',
        body: PermintaanVerifikasi,
        response: { 200: HasilVerifikasi, 400: Problem },
      },
    },
    async (request) => {
      // An unknown NIK is simply "no match": the answer never tells whether a NIK exists.
      const penduduk = byNik.get(request.body.nik);
      return {
        cocok: penduduk !== undefined && normaliseNama(penduduk.nama) === normaliseNama(request.body.nama),
      };
    },
  );

  return app;
}
