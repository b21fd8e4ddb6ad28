import { createErrorCatalogue } from '@spl/problem';

/** The demo upstream's own errors; Fastify's (400 validation, 404 route, 415, 413) come from @spl/problem. */
export const errors = createErrorCatalogue({
  SPL_PENDUDUK_NOT_FOUND: { status: 404, title: 'Penduduk tidak ditemukan' },
});
