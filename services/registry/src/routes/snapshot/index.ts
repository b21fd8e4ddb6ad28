import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Snapshot } from '@spl/snapshot';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { HUB_ORG_SLUG } from '../../bootstrap.js';
import { errors } from '../../errors.js';
import { createClient, generateClientId } from '../../oauth/clients.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses } from '../common-schemas.js';
import { matchesIfNoneMatch } from './if-none-match.js';
import { DataplaneClientCredentials, DataplaneClientInput } from './schemas.js';

/**
 * The data planes' snapshot and the credentials they fetch it with. Gateways and brokers
 * poll with If-None-Match and are told of changes on Redis (ARCHITECTURE: they run from
 * the last snapshot and never touch the registry's database).
 */
export async function snapshotRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['snapshot'];

  app.get(
    '/v1/snapshot',
    {
      config: { access: { roles: ['operator', 'dataplane', 'auditor'] } },
      schema: {
        tags,
        summary: 'The data-plane snapshot (ETag; If-None-Match answers 304)',
        description:
          'Everything the gateway and broker run from: routes, upstreams (secrets sealed), plans, OpenAPI documents by hash, applications, subscriptions, trusted issuers and the hub public keys. Never a private key.',
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 1024 })) }),
        response: {
          200: Snapshot,
          304: Type.Null({ description: 'Not modified: the ETag given in If-None-Match is current' }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const snapshot = await ctx.snapshots.current();
      reply.header('etag', `"${snapshot.etag}"`).header('cache-control', 'no-cache');
      if (matchesIfNoneMatch(request.headers['if-none-match'], snapshot.etag))
        return reply.code(304).send(null);
      // Already JSON text, compiled once per change; sent as is, not re-serialised.
      return reply.type('application/json; charset=utf-8').send(snapshot.text as never);
    },
  );

  app.post(
    '/v1/dataplane-clients',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary: 'Create credentials for a gateway or broker instance (secret shown once)',
        body: DataplaneClientInput,
        response: { 201: DataplaneClientCredentials, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const created = await ctx.mutate(actorOf(principal), async (tx, audit) => {
        const [org] = await tx.query<{ id: string }>('SELECT id FROM organisations WHERE slug = $1', [
          HUB_ORG_SLUG,
        ]);
        if (!org) throw errors.SPL_NOT_FOUND(`the hub organisation ${HUB_ORG_SLUG} does not exist`);
        const clientId = generateClientId(`dataplane-${request.body.name}`);
        const credentials = await createClient(tx, {
          clientId,
          kind: 'dataplane',
          orgId: org.id,
          roles: ['dataplane'],
          now: ctx.clock(),
          secretMaxAgeDays: ctx.config.SPL_SECRET_MAX_AGE_DAYS,
        });
        await audit({
          action: 'client.create',
          entityType: 'client',
          entityId: clientId,
          after: { clientId, kind: 'dataplane', org: HUB_ORG_SLUG, roles: ['dataplane'] },
        });
        return credentials;
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...created, org: HUB_ORG_SLUG, roles: ['dataplane'] });
    },
  );
}
