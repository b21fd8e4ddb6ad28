import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../auth/principal.js';
import { applyHubDocument } from '../../declarative/apply-hub.js';
import type { ApplyReport } from '../../declarative/apply-report.js';
import { exportHubDocument } from '../../declarative/export-hub.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import { ApplyQuery, ApplyResponse, HubDocument } from './schemas.js';

/** Thrown at the end of a dry run so its transaction rolls back with everything it did. */
class DryRunRollback extends Error {
  constructor(readonly report: ApplyReport) {
    super('dry run');
  }
}

/** Declarative configuration: `spl apply` and `spl export` (docs/declarative.md). */
export async function declarativeRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['declarative'];

  app.post(
    '/v1/apply',
    {
      // Any caller: each item is checked against the caller's own rights, as its REST route would.
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Bring the registry to a hub document, idempotently and within the caller’s rights',
        querystring: ApplyQuery,
        body: HubDocument,
        response: { 200: ApplyResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const dryRun = request.query.dryRun ?? false;
      let report: ApplyReport;
      try {
        report = await ctx.mutate(actorOf(principal), async (tx, audit) => {
          const out = await applyHubDocument(tx, audit, principal, request.body, ctx);
          if (dryRun) throw new DryRunRollback(out);
          return out;
        });
      } catch (err) {
        if (!(err instanceof DryRunRollback)) throw err;
        report = err.report;
      }
      reply.header('Cache-Control', 'no-store');
      return {
        dryRun,
        changed: report.changed,
        items: report.items,
        issuedCredentials: dryRun ? [] : report.issuedCredentials,
      };
    },
  );

  app.get(
    '/v1/export',
    {
      config: { access: { roles: ['operator', 'auditor'] } },
      schema: {
        tags,
        summary: 'The registry’s content as a hub document (no secrets)',
        response: { 200: HubDocument, ...problemResponses },
      },
    },
    async () => exportHubDocument(ctx.db, ctx),
  );
}
