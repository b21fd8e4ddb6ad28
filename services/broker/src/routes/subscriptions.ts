import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import { authenticate } from '../auth/authenticate.js';
import type { SubscriptionQueues } from '../delivery/subscription-queues.js';
import { errors } from '../errors.js';
import type { EventJobData } from '../events/event-job.js';
import type { PullStore } from '../pull/pull-store.js';
import type { BrokerRedisKeys } from '../redis-keys.js';
import type { SnapshotRuntime } from '../snapshot/snapshot-runtime.js';
import { type CompiledSubscription, matchesFilter } from '../snapshot/topic-table.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const CloudEventJson = Type.Record(Type.String(), Type.Unknown(), {
  description: 'The CloudEvent in structured mode',
});

/** Largest replay one request may ask for; page by `from` for more. */
const MAX_REPLAY = 10_000;

/**
 * A subscribing application's own operations on its subscription: pull with a lease, ack,
 * nack, replay from a point in time, and the dead-letter queue. Authorised for the
 * subscribing application's hub token only.
 */
export async function subscriptionRoutes(
  app: FastifyInstance,
  opts: {
    runtime: SnapshotRuntime;
    redis: Redis;
    keys: BrokerRedisKeys;
    pull: PullStore;
    queues: SubscriptionQueues;
    retryAttempts: number;
    deadLetterMax: number;
  },
): Promise<void> {
  const { keys } = opts;

  const ownSubscription = async (request: FastifyRequest): Promise<CompiledSubscription> => {
    const table = opts.runtime.table();
    if (!table)
      throw errors.SPL_NOT_READY('the broker has no snapshot yet', { headers: { 'retry-after': '5' } });
    const caller = await authenticate(table, request.headers.authorization);
    const { id } = request.params as { id: string };
    const sub = table.subscription(id);
    if (!sub) throw errors.SPL_SUBSCRIPTION_NOT_FOUND(`no subscription ${id}`);
    if (caller.applicationId !== sub.applicationId)
      throw errors.SPL_NOT_SUBSCRIBER('only the subscribing application may do this');
    return sub;
  };
  const requireMode = (sub: CompiledSubscription, mode: 'push' | 'pull') => {
    if (sub.mode !== mode)
      throw errors.SPL_WRONG_MODE(`subscription ${sub.id} is a ${sub.mode} subscription`);
  };
  const security = [{ bearer: [] }];

  app.post(
    '/v1/subscriptions/:id/pull',
    {
      schema: {
        tags: ['pull'],
        summary: 'Lease up to `max` events; unacknowledged ones come back after `leaseSeconds`',
        security,
        params: Params,
        body: Type.Object({
          max: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          leaseSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
        }),
        response: {
          200: Type.Object({
            events: Type.Array(Type.Object({ ackId: Type.String(), event: CloudEventJson })),
          }),
        },
      },
    },
    async (request) => {
      const sub = await ownSubscription(request);
      requireMode(sub, 'pull');
      const { max, leaseSeconds } = request.body as { max: number; leaseSeconds: number };
      const leased = await opts.pull.lease(sub.id, max, leaseSeconds * 1000);
      return {
        events: leased.map((e) => ({
          ackId: e.ackId,
          event: JSON.parse(e.data.ce) as Record<string, unknown>,
        })),
      };
    },
  );

  const AckBody = Type.Object({
    ackIds: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 1000 }),
  });
  for (const verb of ['ack', 'nack'] as const)
    app.post(
      `/v1/subscriptions/:id/${verb}`,
      {
        schema: {
          tags: ['pull'],
          summary:
            verb === 'ack'
              ? 'Acknowledge leased events: they are not delivered again'
              : 'Give leased events back now: the next pull gets them',
          security,
          params: Params,
          body: AckBody,
          response: { 200: Type.Object({ count: Type.Integer() }) },
        },
      },
      async (request) => {
        const sub = await ownSubscription(request);
        requireMode(sub, 'pull');
        const { ackIds } = request.body as { ackIds: string[] };
        return { count: await opts.pull[verb](sub.id, ackIds) };
      },
    );

  app.post(
    '/v1/subscriptions/:id/replay',
    {
      schema: {
        tags: ['replay'],
        summary: "Deliver the topic's events again from a point in time within its retention",
        security,
        params: Params,
        body: Type.Object({
          from: Type.String({ format: 'date-time' }),
          limit: Type.Integer({ minimum: 1, maximum: MAX_REPLAY, default: 1000 }),
        }),
        response: {
          202: Type.Object({
            replayed: Type.Integer(),
            next: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
              description: 'Where a further replay would continue, when `limit` was reached',
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      const sub = await ownSubscription(request);
      const { from, limit } = request.body as { from: string; limit: number };
      const fromMs = Date.parse(from);
      const entries = (await opts.redis.xrange(
        keys.topicStream(sub.topicId),
        String(Math.max(fromMs, 0)),
        '+',
        'COUNT',
        limit,
      )) as Array<[string, string[]]>;
      // One replay request gets its own job ids, so replaying twice delivers twice (as asked).
      const replayId = createHash('sha256').update(`${request.id}`).digest('hex').slice(0, 16);
      let replayed = 0;
      for (const [, fields] of entries) {
        const data = JSON.parse(fields[1]!) as EventJobData;
        if (!matchesFilter(sub, data.ty, data.su)) continue;
        if (sub.mode === 'pull') await opts.pull.store(sub.id, data);
        else
          await opts.queues.enqueue(
            sub.id,
            `replay-${replayId}-${data.k}-${data.at}`,
            { ...data, s: sub.id },
            opts.retryAttempts,
            opts.deadLetterMax,
          );
        replayed++;
      }
      const last = entries.at(-1);
      const next =
        entries.length === limit && last ? new Date(Number(last[0].split('-')[0]) + 1).toISOString() : null;
      return reply.code(202).send({ replayed, next });
    },
  );

  app.get(
    '/v1/subscriptions/:id/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Events whose every delivery attempt failed, newest first',
        security,
        params: Params,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        response: {
          200: Type.Object({
            disabled: Type.Union([Type.String(), Type.Null()], {
              description: 'Why this broker stopped delivering to the subscription (410 Gone, suspension)',
            }),
            deadLetters: Type.Array(
              Type.Object({
                event: CloudEventJson,
                attempts: Type.Integer(),
                lastError: Type.String(),
                failedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const sub = await ownSubscription(request);
      requireMode(sub, 'push');
      const { limit } = request.query as { limit: number };
      const [jobs, disabled] = await Promise.all([
        opts.queues.deadLetters(sub.id, limit),
        opts.redis.hget(keys.disabled, sub.id),
      ]);
      return {
        disabled,
        deadLetters: jobs.map((job) => ({
          event: JSON.parse(job.data.ce) as Record<string, unknown>,
          attempts: job.attemptsMade,
          lastError: job.failedReason ?? '',
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
        })),
      };
    },
  );

  app.post(
    '/v1/subscriptions/:id/dead-letters/replay',
    {
      schema: {
        tags: ['dead letters'],
        summary:
          'Deliver the dead letters again (with a fresh retry schedule); re-enables a subscription this broker had disabled',
        security,
        params: Params,
        body: Type.Optional(
          Type.Object({ limit: Type.Integer({ minimum: 1, maximum: MAX_REPLAY, default: 1000 }) }),
        ),
        response: { 202: Type.Object({ replayed: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const sub = await ownSubscription(request);
      requireMode(sub, 'push');
      const limit = (request.body as { limit?: number } | undefined)?.limit ?? 1000;
      // The owner says the endpoint works again: lift a local 410/suspension first.
      await opts.redis.multi().hdel(keys.disabled, sub.id).hdel(keys.failingSince, sub.id).exec();
      const replayed = await opts.queues.replayDeadLetters(sub.id, limit);
      return reply.code(202).send({ replayed });
    },
  );
}
