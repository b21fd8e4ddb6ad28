import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { assertActsForOrg } from '../../auth/policy.js';
import { actorOf } from '../../auth/principal.js';
import { transitionRoles } from '../../lifecycle/transitions.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { asyncApiOfTopics } from '../../topics/asyncapi-document.js';
import {
  createTopic,
  getVisibleTopic,
  grantPublish,
  listTopicTransitions,
  listVisibleTopics,
  revokePublish,
  transitionTopic,
  updateTopic,
} from '../../topics/topic-store.js';
import {
  DEFAULT_WEBHOOK_OVERLAP_SECONDS,
  decideTopicSubscription,
  getTopicSubscription,
  listTopicSubscriptions,
  requestTopicSubscription,
  rotateWebhookSecret,
  suspendFailingSubscription,
} from '../../topics/topic-subscription-store.js';
import { OrgParams, Transition, TransitionInput } from '../apis/schemas.js';
import { problemResponses } from '../common-schemas.js';
import {
  DataplaneSuspensionInput,
  PublishGrantInput,
  PublishGrantParams,
  RotateWebhookSecretInput,
  Topic,
  TopicDecisionInput,
  TopicInput,
  TopicParams,
  TopicPatch,
  TopicQuery,
  TopicSubscription,
  TopicSubscriptionCreated,
  TopicSubscriptionInput,
  TopicSubscriptionParams,
  TopicSubscriptionQuery,
  WebhookSecretRotated,
} from './schemas.js';

/** A rotation may come with no body at all (the CLI sends none): it means the defaults. */
async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

const AsyncApiDocument = Type.Object(
  { asyncapi: Type.Literal('3.0.0') },
  { additionalProperties: true, description: 'An AsyncAPI 3.0 document' },
);

/**
 * Event topics, registered like APIs (issue 4 §1; the "bus" of BBU Lampiran II.G): their
 * event schemas and limits, lifecycle through the kelaikan gates, publish grants, the
 * subscriptions with the owner's consent, and the catalog as AsyncAPI 3.0.
 */
export async function topicRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['topics'];
  const owners = { roles: ['operator', 'publisher'] } as const;
  const asyncApiOptions = {
    publicUrl: ctx.config.publicUrl,
    brokerUrl: ctx.config.SPL_BROKER_URL ?? `http://${ctx.config.SPL_HOST}:8082`,
  };

  app.post(
    '/v1/organisations/:org/topics',
    {
      config: { access: owners },
      schema: {
        tags,
        summary:
          'Register an event topic of an organisation, with its event data JSON Schema (2020-12) and limits',
        params: OrgParams,
        body: TopicInput,
        response: { 201: Topic, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['publisher']);
      const created = await ctx.mutate(actorOf(principal), (tx, audit) =>
        createTopic(tx, audit, request.params.org, request.body, ctx.clock()),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/topics',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'List the topics the caller may see (dikecualikan ones only to those who may)',
        querystring: TopicQuery,
        response: { 200: Type.Array(Topic), ...problemResponses },
      },
    },
    async (request) => listVisibleTopics(ctx.db, principalOf(request), request.query),
  );

  app.get(
    '/v1/topics/:org/:topic',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show a topic with its event schema',
        params: TopicParams,
        response: { 200: Topic, ...problemResponses },
      },
    },
    async (request) => getVisibleTopic(ctx.db, principalOf(request), request.params),
  );

  app.patch(
    '/v1/topics/:org/:topic',
    {
      config: { access: owners },
      schema: {
        tags,
        summary:
          'Change a topic: description and limits at any time; schema and classification only in draft',
        params: TopicParams,
        body: TopicPatch,
        response: { 200: Topic, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      assertActsForOrg(principal, request.params.org, ['publisher']);
      const { topic } = await ctx.mutate(actorOf(principal), (tx, audit) =>
        updateTopic(tx, audit, request.params, request.body, ctx.clock()),
      );
      return topic;
    },
  );

  app.post(
    '/v1/topics/:org/:topic/transitions',
    {
      config: { access: { roles: transitionRoles(ctx.config) } },
      schema: {
        tags,
        summary: 'Move a topic through its lifecycle (the same gates as an API version)',
        params: TopicParams,
        body: TransitionInput,
        response: { 200: Topic, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        transitionTopic(tx, audit, principal, request.params, request.body, ctx),
      );
    },
  );

  app.get(
    '/v1/topics/:org/:topic/transitions',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'A topic’s lifecycle history, with who made each transition',
        params: TopicParams,
        response: { 200: Type.Array(Transition), ...problemResponses },
      },
    },
    async (request) => listTopicTransitions(ctx.db, principalOf(request), request.params),
  );

  app.post(
    '/v1/topics/:org/:topic/publish-grants',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: "Let another organisation's application publish to the topic (the owner's may always)",
        params: TopicParams,
        body: PublishGrantInput,
        response: { 200: Topic, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { topic } = await ctx.mutate(actorOf(principal), (tx, audit) =>
        grantPublish(tx, audit, principal, request.params, request.body.application, ctx.clock()),
      );
      return topic;
    },
  );

  app.delete(
    '/v1/topics/:org/:topic/publish-grants/:appOrg/:app',
    {
      config: { access: owners },
      schema: {
        tags,
        summary: 'Withdraw a publish grant',
        params: PublishGrantParams,
        response: { 200: Topic, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { org, topic, appOrg, app: appSlug } = request.params;
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        revokePublish(tx, audit, principal, { org, topic }, `${appOrg}/${appSlug}`),
      );
    },
  );

  // ── the catalog as AsyncAPI 3.0 ──

  app.get(
    '/v1/catalog/topics/asyncapi',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Every published or deprecated topic the caller may see, as one AsyncAPI 3.0 document',
        response: { 200: AsyncApiDocument, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const topics = (await listVisibleTopics(ctx.db, principal, {})).filter(
        (t) => t.state === 'published' || t.state === 'deprecated',
      );
      return asyncApiOfTopics(topics, asyncApiOptions);
    },
  );

  app.get(
    '/v1/catalog/topics/:org/:topic/asyncapi',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'One topic as an AsyncAPI 3.0 document (its event data schema as the message payload)',
        params: TopicParams,
        response: { 200: AsyncApiDocument, ...problemResponses },
      },
    },
    async (request) => {
      const topic = await getVisibleTopic(ctx.db, principalOf(request), request.params);
      return asyncApiOfTopics([topic], asyncApiOptions);
    },
  );

  // ── subscriptions to topics ──

  app.get(
    '/v1/topic-subscriptions',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary:
          "List topic subscriptions the caller may see: its organisation's applications' and topics' (operators, auditors: all)",
        querystring: TopicSubscriptionQuery,
        response: { 200: Type.Array(TopicSubscription), ...problemResponses },
      },
    },
    async (request) => listTopicSubscriptions(ctx.db, principalOf(request), request.query, ctx.clock()),
  );

  app.post(
    '/v1/topic-subscriptions',
    {
      config: { access: { roles: ['operator', 'publisher', 'consumer'] } },
      schema: {
        tags,
        summary:
          'Ask to receive a topic’s events, stating the purpose; push mode answers the webhook signing secret once',
        body: TopicSubscriptionInput,
        response: { 201: TopicSubscriptionCreated, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { subscription, secret } = await ctx.mutate(actorOf(principal), (tx, audit) =>
        requestTopicSubscription(tx, audit, principal, request.body, ctx),
      );
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...subscription, ...(secret ? { webhookSecret: { secret } } : {}) });
    },
  );

  app.get(
    '/v1/topic-subscriptions/:id',
    {
      config: { access: { roles: 'any' } },
      schema: {
        tags,
        summary: 'Show a topic subscription (never its secret)',
        params: TopicSubscriptionParams,
        response: { 200: TopicSubscription, ...problemResponses },
      },
    },
    async (request) => getTopicSubscription(ctx.db, principalOf(request), request.params.id, ctx.clock()),
  );

  app.post(
    '/v1/topic-subscriptions/:id/decision',
    {
      config: { access: { roles: ['operator', 'publisher', 'consumer'] } },
      schema: {
        tags,
        summary:
          "Decide on a topic subscription: approve, reject (with a reason), resume — a named publisher of the topic's organisation or operator; suspend — the owner or an operator; revoke — those, or the application's organisation",
        params: TopicSubscriptionParams,
        body: TopicDecisionInput,
        response: { 200: TopicSubscription, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        decideTopicSubscription(tx, audit, principal, request.params.id, request.body, ctx.clock()),
      );
    },
  );

  app.post(
    '/v1/topic-subscriptions/:id/secrets',
    {
      config: { access: { roles: ['operator', 'publisher', 'consumer'] } },
      preValidation: defaultEmptyBody,
      schema: {
        tags,
        summary:
          "Rotate a push subscription's webhook signing secret (new one shown once; the previous ones keep signing for the overlap)",
        params: TopicSubscriptionParams,
        body: RotateWebhookSecretInput,
        response: { 200: WebhookSecretRotated, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const out = await ctx.mutate(actorOf(principal), (tx, audit) =>
        rotateWebhookSecret(
          tx,
          audit,
          principal,
          request.params.id,
          request.body.overlapSeconds ?? DEFAULT_WEBHOOK_OVERLAP_SECONDS,
          ctx,
        ),
      );
      return reply.header('cache-control', 'no-store').send(out);
    },
  );

  app.post(
    '/v1/topic-subscriptions/:id/suspension',
    {
      config: { access: { roles: ['dataplane'] } },
      schema: {
        tags,
        summary:
          'A data plane (the broker) suspends a push subscription whose endpoint keeps failing, with the reason; the subscriber sees it in its inbox',
        params: TopicSubscriptionParams,
        body: DataplaneSuspensionInput,
        response: { 200: TopicSubscription, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.mutate(actorOf(principal), (tx, audit) =>
        suspendFailingSubscription(tx, audit, principal, request.params.id, request.body.reason, ctx.clock()),
      );
    },
  );
}
