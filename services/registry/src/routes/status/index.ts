import type { FastifyInstance } from 'fastify';
import type { RegistryContext } from '../../registry-context.js';
import { loadStatus, renderStatusPage } from '../../status/status-page.js';

/**
 * The status page (issue 5 §3), server-rendered HTML without scripts or external assets:
 * `GET /status` for everyone (publik and terbatas APIs), `GET /v1/status` for the hub's
 * staff with every API. Not part of the API document: a page for people, not clients.
 */
export async function statusRoutes(app: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const page = async (includeRestricted: boolean) => {
    const now = ctx.clock();
    return renderStatusPage(await loadStatus(ctx.db, { now, includeRestricted }), {
      now,
      operatorView: includeRestricted,
    });
  };

  app.get(
    '/status',
    {
      config: { access: { public: true } },
      schema: { summary: 'Public status page (HTML): availability of each published API against its SLA' },
    },
    async (_request, reply) => {
      const { body, csp } = await page(false);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', csp)
        .header('cache-control', 'public, max-age=60')
        .send(body);
    },
  );

  app.get(
    '/v1/status',
    {
      config: { access: { roles: ['operator', 'auditor', 'reviewer'] } },
      schema: { summary: 'Operator status page (HTML), dikecualikan APIs included' },
    },
    async (_request, reply) => {
      const { body, csp } = await page(true);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', csp)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );
}
