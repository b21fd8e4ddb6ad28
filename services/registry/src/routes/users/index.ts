import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { createUser, findUserById, listUsers } from '../../users/user-store.js';
import { problemResponses } from '../common-schemas.js';
import { IssuedCredentials, Me, User, UserInput } from './schemas.js';

/** Named people (BKS 30(5)(d): access rights mapped to roles) and who the caller is. */
export async function userRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];

  app.get(
    '/v1/me',
    {
      config: { access: { roles: 'any' } },
      schema: { tags, summary: 'Who the caller is', response: { 200: Me, ...problemResponses } },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = principal.userId ? await findUserById(ctx.db, principal.userId) : undefined;
      return {
        clientId: principal.clientId,
        org: principal.org,
        roles: principal.roles,
        ...(user ? { user } : {}),
      };
    },
  );

  app.get(
    '/v1/users',
    {
      config: { access: { roles: ['operator', 'auditor'] } },
      schema: { tags, summary: 'List people', response: { 200: Type.Array(User), ...problemResponses } },
    },
    async () => listUsers(ctx.db),
  );

  app.post(
    '/v1/users',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Register a person with a personal client (the secret is shown once)',
        body: UserInput,
        response: { 201: Type.Object({ user: User, credentials: IssuedCredentials }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const out = await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        createUser(tx, audit, request.body, ctx.clock(), ctx.config.SPL_SECRET_MAX_AGE_DAYS),
      );
      return reply.code(201).header('Cache-Control', 'no-store').send(out);
    },
  );
}
