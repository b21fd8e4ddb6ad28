import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { inboxOf } from '../../inbox/inbox.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import { Inbox } from './schemas.js';

/** `spl inbox`: what waits on the caller (issue 2, point 8). */
export async function inboxRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const approvers = {
    kelaikanOperasi: ctx.config.SPL_APPROVER_KELAIKAN_OPERASI,
    kelaikanKeamanan: ctx.config.SPL_APPROVER_KELAIKAN_KEAMANAN,
  };

  app.get(
    '/v1/inbox',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags: ['inbox'],
        summary: 'What waits on the caller: reviews, versions to publish, consent requests, refusals',
        response: { 200: Inbox, ...problemResponses },
      },
    },
    async (request) => ({ items: await inboxOf(ctx.db, principalOf(request), approvers, ctx.clock()) }),
  );
}
