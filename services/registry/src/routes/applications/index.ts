import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  applicationOfRow,
  createApplication,
  DEFAULT_OVERLAP_SECONDS,
  getApplicationRow,
  listApplications,
  rotateApplicationSecret,
  rotatePersonalSecret,
  updateApplication,
} from '../../applications/application-store.js';
import { assertActsForOrg } from '../../auth/policy.js';
import { actorOf, hasRole, type Principal } from '../../auth/principal.js';
import { errors } from '../../errors.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import {
  Application,
  ApplicationCreated,
  ApplicationInput,
  ApplicationPatch,
  AppOrgParams,
  AppParams,
  RotatedSecret,
  RotateSecretInput,
} from './schemas.js';

/** A rotation may come with no body at all (the CLI sends none): it means the defaults. */
async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/** An organisation's applications are read by its own members, operators and auditors. */
function assertReadsOrg(principal: Principal, org: string): void {
  if (principal.org === org || hasRole(principal, 'operator', 'auditor')) return;
  throw errors.SPL_FORBIDDEN(`the applications of ${org} are visible to ${org}, operators and auditors`);
}

/** Consumer applications of an organisation and their credentials (BKS 59(4)(e): secrets hashed, shown once). */
export async function applicationRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['applications'];
  const writers = ['operator', 'publisher', 'consumer'] as const;

  app.get(
    '/v1/organisations/:org/applications',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: "List an organisation's applications (its members, operators, auditors)",
        params: AppOrgParams,
        response: { 200: Type.Array(Application), ...problemResponses },
      },
    },
    async (request) => {
      assertReadsOrg(principalOf(request), request.params.org);
      return listApplications(ctx.db, request.params.org);
    },
  );

  app.post(
    '/v1/organisations/:org/applications',
    {
      config: { access: { roles: writers } },
      schema: {
        tags,
        summary: 'Register a consumer application (with credentials, the secret is shown once)',
        params: AppOrgParams,
        body: ApplicationInput,
        response: { 201: ApplicationCreated, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['consumer', 'publisher']);
      const out = await ctx.mutate(actorOf(principal), (tx, audit) =>
        createApplication(
          tx,
          audit,
          request.params.org,
          request.body,
          ctx.clock(),
          ctx.config.SPL_SECRET_MAX_AGE_DAYS,
        ),
      );
      return reply.code(201).header('Cache-Control', 'no-store').send(out);
    },
  );

  app.get(
    '/v1/applications/:org/:app',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show an application',
        params: AppParams,
        response: { 200: Application, ...problemResponses },
      },
    },
    async (request) => {
      assertReadsOrg(principalOf(request), request.params.org);
      return applicationOfRow(await getApplicationRow(ctx.db, request.params.org, request.params.app));
    },
  );

  app.patch(
    '/v1/applications/:org/:app',
    {
      config: { access: { roles: writers } },
      schema: {
        tags,
        summary: 'Change an application',
        params: AppParams,
        body: ApplicationPatch,
        response: { 200: Application, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['consumer', 'publisher']);
      const { application } = await ctx.mutate(actorOf(principal), (tx, audit) =>
        updateApplication(tx, audit, request.params.org, request.params.app, request.body, ctx.clock()),
      );
      return application;
    },
  );

  app.post(
    '/v1/applications/:org/:app/secrets',
    {
      config: { access: { roles: writers } },
      preValidation: defaultEmptyBody,
      schema: {
        tags,
        summary: "Rotate an application's client secret (new one shown once; old ones overlap)",
        params: AppParams,
        body: RotateSecretInput,
        response: { 200: RotatedSecret, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['consumer', 'publisher']);
      const out = await ctx.mutate(actorOf(principal), (tx, audit) =>
        rotateApplicationSecret(
          tx,
          audit,
          request.params.org,
          request.params.app,
          request.body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
          ctx.clock(),
          ctx.config.SPL_SECRET_MAX_AGE_DAYS,
        ),
      );
      return reply.header('Cache-Control', 'no-store').send(out);
    },
  );

  app.post(
    '/v1/me/secret',
    {
      config: { access: { roles: 'any' } },
      preValidation: defaultEmptyBody,
      schema: {
        tags: ['users'],
        summary: "Rotate the caller's own personal client secret (new one shown once)",
        body: RotateSecretInput,
        response: { 200: RotatedSecret, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const out = await ctx.mutate(actorOf(principal), (tx, audit) =>
        rotatePersonalSecret(
          tx,
          audit,
          principal,
          request.body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
          ctx.clock(),
          ctx.config.SPL_SECRET_MAX_AGE_DAYS,
        ),
      );
      return reply.header('Cache-Control', 'no-store').send(out);
    },
  );
}
