import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { assertActsForOrg } from '../../auth/policy.js';
import { actorOf } from '../../auth/principal.js';
import { errors } from '../../errors.js';
import {
  createOrganisation,
  getOrganisationRow,
  listOrganisations,
  organisationOfRow,
  updateOrganisation,
} from '../../organisations/organisation-store.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import { Organisation, OrganisationInput, OrganisationPatch, OrgParams } from './schemas.js';

/** Organisations: Perangkat Daerah, Instansi Pusat, other Pemda (BKT 17(4); BKS 19(4)). */
export async function organisationRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['organisations'];

  app.get(
    '/v1/organisations',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'List organisations',
        response: { 200: Type.Array(Organisation), ...problemResponses },
      },
    },
    async () => listOrganisations(ctx.db),
  );

  app.post(
    '/v1/organisations',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Register an organisation',
        body: OrganisationInput,
        response: { 201: Organisation, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        createOrganisation(tx, audit, request.body, ctx.clock()),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/organisations/:org',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show an organisation',
        params: OrgParams,
        response: { 200: Organisation, ...problemResponses },
      },
    },
    async (request) => organisationOfRow(await getOrganisationRow(ctx.db, request.params.org)),
  );

  app.patch(
    '/v1/organisations/:org',
    {
      config: { access: { roles: ['operator', 'publisher'] } },
      schema: {
        tags,
        summary: 'Change an organisation (operators; publishers of that organisation, except its kind)',
        params: OrgParams,
        body: OrganisationPatch,
        response: { 200: Organisation, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['publisher']);
      if (request.body.kind !== undefined && !principal.roles.includes('operator'))
        throw errors.SPL_FORBIDDEN('only operators change the kind of an organisation');
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        updateOrganisation(tx, audit, request.params.org, request.body, ctx.clock()),
      );
    },
  );
}
