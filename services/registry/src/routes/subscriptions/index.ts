import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import {
  decideSubscription,
  getSubscription,
  listSubscriptions,
  requestSubscription,
} from '../../subscriptions/subscription-store.js';
import { problemResponses } from '../common-schemas.js';
import {
  DecisionInput,
  Subscription,
  SubscriptionInput,
  SubscriptionParams,
  SubscriptionQuery,
} from './schemas.js';

/** Subscriptions and the data owner's consent (DIGEST §3; BKT 20(2), BTM 16(2), MUE 16(2)). */
export async function subscriptionRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['subscriptions'];

  app.get(
    '/v1/subscriptions',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary:
          "List subscriptions the caller may see: its organisation's applications' and APIs' (operators, auditors: all)",
        querystring: SubscriptionQuery,
        response: { 200: Type.Array(Subscription), ...problemResponses },
      },
    },
    async (request) => listSubscriptions(ctx.db, principalOf(request), request.query),
  );

  app.post(
    '/v1/subscriptions',
    {
      config: { access: { roles: ['operator', 'publisher', 'consumer'] } },
      schema: {
        tags,
        summary:
          "Ask for access to an API version, stating the purpose (consumer or publisher of the application's organisation)",
        body: SubscriptionInput,
        response: { 201: Subscription, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const created = await ctx.mutate(actorOf(principal), (tx, audit) =>
        requestSubscription(tx, audit, principal, request.body, ctx.clock()),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/subscriptions/:id',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show a subscription',
        params: SubscriptionParams,
        response: { 200: Subscription, ...problemResponses },
      },
    },
    async (request) => getSubscription(ctx.db, principalOf(request), request.params.id),
  );

  app.post(
    '/v1/subscriptions/:id/decision',
    {
      config: { access: { roles: ['operator', 'publisher', 'consumer'] } },
      schema: {
        tags,
        summary:
          "Decide on a subscription: approve, reject (with a reason) or resume — a named publisher of the API's organisation or operator; suspend — the owner or an operator; revoke — those, or the application's organisation",
        params: SubscriptionParams,
        body: DecisionInput,
        response: { 200: Subscription, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        decideSubscription(tx, audit, principal, request.params.id, request.body, ctx.clock()),
      );
    },
  );
}
