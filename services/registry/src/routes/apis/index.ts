import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createApi, getVisibleApi, searchCatalog, updateApi } from '../../apis/api-store.js';
import { checkOpenApi } from '../../apis/openapi-document.js';
import {
  createVersion,
  getVersionDocument,
  getVisibleVersion,
  listVisibleVersions,
  prepareDefinition,
  updateDraftVersion,
} from '../../apis/version-store.js';
import { assertActsForOrg } from '../../auth/policy.js';
import { actorOf } from '../../auth/principal.js';
import { listTransitions, transitionRoles, transitionVersion } from '../../lifecycle/transitions.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { Problem, problemResponses } from '../common-schemas.js';
import {
  Api,
  ApiInput,
  ApiParams,
  ApiPatch,
  ApiVersion,
  CatalogPage,
  CatalogQuery,
  OrgParams,
  Transition,
  TransitionInput,
  VersionInput,
  VersionParams,
  VersionPatch,
} from './schemas.js';

const uploadResponses = { ...problemResponses, 413: Problem, 415: Problem } as const;

/**
 * APIs and their versions: the metadata repository and service directory (BBU Lamp. II.G),
 * and the version lifecycle with its kelaikan gates (DIGEST §9.3).
 */
export async function apiRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['apis'];
  const owners = { roles: ['operator', 'publisher'] } as const;

  app.post(
    '/v1/organisations/:org/apis',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Register an API of an organisation (its publishers, or operators)',
        params: OrgParams,
        body: ApiInput,
        response: { 201: Api, ...uploadResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['publisher']);
      const created = await ctx.mutate(actorOf(principal), (tx, audit) =>
        createApi(tx, audit, request.params.org, request.body, ctx.clock()),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/apis',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Search the catalog (dikecualikan APIs appear only to those who may see them)',
        querystring: CatalogQuery,
        response: { 200: CatalogPage, ...problemResponses },
      },
    },
    async (request) => searchCatalog(ctx.db, principalOf(request), request.query),
  );

  app.get(
    '/v1/apis/:org/:api',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show an API',
        params: ApiParams,
        response: { 200: Api, ...problemResponses },
      },
    },
    async (request) => getVisibleApi(ctx.db, principalOf(request), request.params.org, request.params.api),
  );

  app.patch(
    '/v1/apis/:org/:api',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Change an API (its organisation’s publishers, or operators)',
        params: ApiParams,
        body: ApiPatch,
        response: { 200: Api, ...uploadResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { org, api } = request.params;
      assertActsForOrg(principal, org, ['publisher']);
      const { api: updated } = await ctx.mutate(actorOf(principal), (tx, audit) =>
        updateApi(tx, audit, org, api, request.body, ctx.clock()),
      );
      return updated;
    },
  );

  app.post(
    '/v1/apis/:org/:api/versions',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Create a draft version with its OpenAPI document, upstream and plan',
        params: ApiParams,
        body: VersionInput,
        response: { 201: ApiVersion, ...uploadResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { org, api } = request.params;
      assertActsForOrg(principal, org, ['publisher']);
      const { version, ...rest } = request.body;
      const definition = await prepareDefinition(rest, ctx);
      const created = await ctx.mutate(actorOf(principal), (tx, audit) =>
        createVersion(tx, audit, org, api, version, definition, ctx),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/apis/:org/:api/versions',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'List the versions of an API the caller may see',
        params: ApiParams,
        response: { 200: Type.Array(ApiVersion), ...problemResponses },
      },
    },
    async (request) =>
      listVisibleVersions(ctx.db, principalOf(request), request.params.org, request.params.api),
  );

  app.get(
    '/v1/apis/:org/:api/versions/:version',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show a version',
        params: VersionParams,
        response: { 200: ApiVersion, ...problemResponses },
      },
    },
    async (request) => getVisibleVersion(ctx.db, principalOf(request), request.params),
  );

  app.get(
    '/v1/apis/:org/:api/versions/:version/openapi',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'The version’s OpenAPI document, as JSON',
        params: VersionParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problemResponses },
      },
    },
    async (request) => getVersionDocument(ctx.db, principalOf(request), request.params),
  );

  app.patch(
    '/v1/apis/:org/:api/versions/:version',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Change a draft version (409 SPL_IMMUTABLE once submitted)',
        params: VersionParams,
        body: VersionPatch,
        response: { 200: ApiVersion, ...uploadResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['publisher']);
      const { openapi, ...rest } = request.body;
      const checked =
        openapi === undefined ? undefined : await checkOpenApi(openapi, ctx.config.SPL_OPENAPI_MAX_BYTES);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        updateDraftVersion(
          tx,
          audit,
          request.params,
          { ...rest, ...(checked ? { openapi: checked } : {}) },
          ctx,
        ),
      );
    },
  );

  app.post(
    '/v1/apis/:org/:api/versions/:version/transitions',
    {
      // Who may make which transition depends on the action and the state; the domain decides.
      config: { access: { roles: transitionRoles(ctx.config) } },
      schema: {
        tags,
        summary:
          'Move a version through its lifecycle: submit, approve, reject (with reason), publish, deprecate, retire',
        params: VersionParams,
        body: TransitionInput,
        response: { 200: ApiVersion, ...uploadResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        transitionVersion(tx, audit, principal, request.params, request.body, ctx),
      );
    },
  );

  app.get(
    '/v1/apis/:org/:api/versions/:version/transitions',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'A version’s lifecycle history, with who made each transition',
        params: VersionParams,
        response: { 200: Type.Array(Transition), ...problemResponses },
      },
    },
    async (request) => listTransitions(ctx.db, principalOf(request), request.params),
  );
}
