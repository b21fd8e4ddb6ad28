import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import {
  createTrustedIssuer,
  deleteTrustedIssuer,
  getTrustedIssuerRow,
  issuerUrlPolicyOf,
  listTrustedIssuers,
  trustedIssuerOfRow,
  updateTrustedIssuer,
} from '../../trusted-issuers/trusted-issuer-store.js';
import { problemResponses } from '../common-schemas.js';
import { IssuerParams, TrustedIssuer, TrustedIssuerInput, TrustedIssuerPatch } from './schemas.js';

/**
 * Trusted issuers: other authorization servers whose tokens the hub accepts for an
 * application bound to them (the national SPLP, another region's hub; BKS 60(3)).
 */
export async function trustedIssuerRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['trusted-issuers'];
  const policy = issuerUrlPolicyOf(ctx.config);

  app.get(
    '/v1/trusted-issuers',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'List trusted issuers',
        response: { 200: Type.Array(TrustedIssuer), ...problemResponses },
      },
    },
    async () => listTrustedIssuers(ctx.db),
  );

  app.post(
    '/v1/trusted-issuers',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Trust an external token issuer',
        body: TrustedIssuerInput,
        response: { 201: TrustedIssuer, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        createTrustedIssuer(tx, audit, request.body, ctx.clock(), policy),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/trusted-issuers/:issuer',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show a trusted issuer',
        params: IssuerParams,
        response: { 200: TrustedIssuer, ...problemResponses },
      },
    },
    async (request) => trustedIssuerOfRow(await getTrustedIssuerRow(ctx.db, request.params.issuer)),
  );

  app.patch(
    '/v1/trusted-issuers/:issuer',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Change a trusted issuer',
        params: IssuerParams,
        body: TrustedIssuerPatch,
        response: { 200: TrustedIssuer, ...problemResponses },
      },
    },
    async (request) =>
      (
        await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
          updateTrustedIssuer(tx, audit, request.params.issuer, request.body, ctx.clock(), policy),
        )
      ).issuer,
  );

  app.delete(
    '/v1/trusted-issuers/:issuer',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Stop trusting an issuer (refused while applications are bound to it)',
        params: IssuerParams,
        response: { 204: Type.Null(), ...problemResponses },
      },
    },
    async (request, reply) => {
      await ctx.mutate(actorOf(principalOf(request)), (tx, audit) =>
        deleteTrustedIssuer(tx, audit, request.params.issuer),
      );
      return reply.code(204).send(null);
    },
  );
}
