import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hasRole } from '../../auth/principal.js';
import { errors } from '../../errors.js';
import { buildMonevReport } from '../../monev/monev-report.js';
import { renderMonevCsv, renderMonevHtml } from '../../monev/render-monev.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import { MonevQuery, MonevReport } from './schemas.js';

/** Longest period one report covers: a year and a leap day, with room for time zones. */
const MAX_RANGE_MS = 367 * 24 * 3_600_000;

/**
 * The monev report (issue 5 §2; BKS 89(2)) for a period and an organisation or the whole
 * hub, as JSON, CSV (`format=csv` or `Accept: text/csv`) or a printable HTML page.
 * Operators and auditors read any; a publisher reads its own organisation's.
 */
export async function monevRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/reports/monev',
    {
      config: { access: { roles: ['operator', 'auditor', 'publisher'] } },
      schema: {
        tags: ['reports'],
        summary: 'Monev report over [from, to): per API version and per topic (JSON, CSV or HTML)',
        querystring: MonevQuery,
        produces: ['application/json', 'text/csv', 'text/html'],
        response: {
          200: MonevReport,
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const principal = principalOf(request);
      if (!hasRole(principal, 'operator', 'auditor') && q.org !== principal.org)
        throw errors.SPL_FORBIDDEN(
          `a publisher reads the report of its own organisation only (org=${principal.org})`,
        );
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (!(from < to)) throw errors.SPL_VALIDATION('from must be before to');
      if (to.getTime() - from.getTime() > MAX_RANGE_MS)
        throw errors.SPL_VALIDATION('a report spans at most 367 days');
      const report = await buildMonevReport(ctx.db, { org: q.org, from, to, now: ctx.clock() });

      const accept = request.headers.accept ?? '';
      const format =
        q.format ?? (/text\/csv/.test(accept) ? 'csv' : /text\/html/.test(accept) ? 'html' : 'json');
      const name = `monev-${q.org ?? 'hub'}-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}`;
      if (format === 'csv')
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.csv"`)
          .send(renderMonevCsv(report) as never);
      if (format === 'html') {
        const page = renderMonevHtml(report);
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', page.csp)
          .send(page.body as never);
      }
      return report;
    },
  );
}
