import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { assertPerson } from '../../auth/policy.js';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { erasePerson, exportPersonData } from '../../users/person-data.js';
import { createUser, findUserById, listUsers } from '../../users/user-store.js';
import { problemResponses } from '../common-schemas.js';
import { IssuedCredentials, Me, PersonalDataExport, User, UserIdParams, UserInput } from './schemas.js';

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

  app.get(
    '/v1/me/data',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Everything the hub stores about the calling person, as JSON (BKS 59(10))',
        response: { 200: PersonalDataExport, ...problemResponses },
      },
    },
    async (request, reply) => {
      const userId = assertPerson(principalOf(request), 'exporting personal data');
      const data = await exportPersonData(ctx.db, userId, ctx.clock());
      return reply
        .header('Cache-Control', 'no-store')
        .header(
          'Content-Disposition',
          `attachment; filename="spl-personal-data-${data.person.username}.json"`,
        )
        .send(data);
    },
  );

  app.post(
    '/v1/users/:id/erasure',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary:
          'Erase a person on request: pseudonymise, disable, end their secrets and session (BKS 59(10)); 409 when already erased',
        params: UserIdParams,
        response: { 200: User, ...problemResponses },
      },
    },
    async (request) =>
      ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        erasePerson(tx, audit, request.params.id, ctx.clock()),
      ),
  );
}
