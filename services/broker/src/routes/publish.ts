import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { authenticate } from '../auth/authenticate.js';
import { errors } from '../errors.js';
import { parseCloudEvent } from '../events/parse-cloud-event.js';
import type { EventPublisher } from '../publish/event-publisher.js';
import type { SnapshotRuntime } from '../snapshot/snapshot-runtime.js';
import type { CompiledTopic, Publisher } from '../snapshot/topic-table.js';

/** What a publish came to, for metrics, usage records and the evidence log. */
export type PublishOutcome =
  | 'accepted'
  | 'duplicate'
  | 'unauthorised'
  | 'forbidden'
  | 'too-large'
  | 'rate-limited'
  | 'backlog'
  | 'invalid'
  | 'unavailable';

export interface PublishObserver {
  onPublish(input: {
    topic: CompiledTopic;
    applicationId: string;
    outcome: PublishOutcome;
    bytes: number;
    requestId: string;
    eventKey: string | null;
    type: string | null;
    /** SHA-256 (hex) of the request body, for the evidence log; null when refused before reading it. */
    bodyDigest: string | null;
  }): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    publish: { topic: CompiledTopic; publisher: Publisher } | null;
  }
}

const OUTCOME_BY_STATUS: Record<number, PublishOutcome> = {
  400: 'invalid',
  403: 'forbidden',
  413: 'too-large',
  415: 'invalid',
  429: 'rate-limited',
};

const Params = Type.Object({
  org: Type.String({ pattern: '^[a-z0-9-]+$', maxLength: 100 }),
  topic: Type.String({ pattern: '^[a-z0-9-]+$', maxLength: 100 }),
});

/**
 * `POST /v1/topics/{org}/{topic}/events`: one CloudEvent, binary or structured mode. Checks
 * run in this order, so a caller without a token learns nothing about what exists:
 * 401 → 404 → 403 → 413 → 429 → 503 (backlog) → 400 → 202 once the job is in Redis.
 */
export async function publishRoutes(
  app: FastifyInstance,
  opts: { runtime: SnapshotRuntime; publisher: EventPublisher; observer?: PublishObserver },
): Promise<void> {
  app.decorateRequest('publish', null);

  // Bodies are taken as bytes of any type, up to the topic's limit, read before the body is.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, payload, done) => {
    const limit = request.publish?.topic.limits.maxEventBytes ?? 0;
    const chunks: Buffer[] = [];
    let size = 0;
    let isDone = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (isDone) return;
      isDone = true;
      done(err, body);
    };
    payload.on('data', (chunk: Buffer) => {
      if (isDone) return;
      size += chunk.length;
      if (size > limit) {
        payload.resume();
        return finish(errors.SPL_PAYLOAD_TOO_LARGE(`the event is larger than the ${limit} bytes accepted`));
      }
      chunks.push(chunk);
    });
    payload.on('end', () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    payload.on('error', (err) => finish(err));
  });

  const report = (
    request: FastifyRequest,
    outcome: PublishOutcome,
    eventKey: string | null,
    type: string | null,
    body: Buffer | null = null,
  ) => {
    const ctx = request.publish;
    if (!ctx || !opts.observer) return;
    opts.observer.onPublish({
      topic: ctx.topic,
      applicationId: ctx.publisher.applicationId ?? '',
      outcome,
      bytes: Number(request.headers['content-length'] ?? 0) || 0,
      requestId: request.id,
      eventKey,
      type,
      bodyDigest: body ? createHash('sha256').update(body).digest('hex') : null,
    });
  };

  app.post(
    '/v1/topics/:org/:topic/events',
    {
      schema: {
        tags: ['publish'],
        summary: 'Publish one CloudEvent (binary or structured mode)',
        params: Params,
        security: [{ bearer: [] }],
        response: {
          202: Type.Object({
            id: Type.String(),
            source: Type.String(),
            duplicate: Type.Boolean({
              description: 'true when the same source+id was accepted within the window',
            }),
          }),
        },
      },
      onRequest: async (request) => {
        const table = opts.runtime.table();
        if (!table)
          throw errors.SPL_NOT_READY('the broker has no snapshot yet', { headers: { 'retry-after': '5' } });
        const publisher = await authenticate(table, request.headers.authorization);
        const { org, topic: slug } = request.params as { org: string; topic: string };
        const topic = table.topic(org, slug);
        if (!topic) throw errors.SPL_TOPIC_NOT_FOUND(`no published topic ${org}/${slug}`);
        request.publish = { topic, publisher };
        if (!publisher.applicationId || !topic.publishers.has(publisher.applicationId))
          throw errors.SPL_NOT_PUBLISHER(`the application may not publish to ${org}/${slug}`);
        const declared = Number(request.headers['content-length']);
        if (declared > topic.limits.maxEventBytes)
          throw errors.SPL_PAYLOAD_TOO_LARGE(
            `the event is larger than the ${topic.limits.maxEventBytes} bytes accepted`,
          );
      },
      // Runs before the problem+json handler sets the status: judge by the error itself.
      onError: async (request, _reply, error) => {
        const err = error as { code?: string; status?: number; statusCode?: number };
        const status = err.status ?? err.statusCode ?? 500;
        const outcome =
          err.code === 'SPL_BACKLOG_FULL'
            ? 'backlog'
            : (OUTCOME_BY_STATUS[status] ?? (status >= 500 ? 'unavailable' : 'invalid'));
        report(request, outcome, null, null);
      },
    },
    async (request, reply) => {
      const { topic, publisher } = request.publish!;
      const applicationId = publisher.applicationId!;
      await opts.publisher.checkRate(topic, applicationId);
      opts.publisher.checkBacklog();
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const event = parseCloudEvent(request.headers, body);
      if (topic.validate && !topic.validate(event.data ?? null)) {
        const first = topic.validate.errors?.[0];
        throw errors.SPL_EVENT_SCHEMA(
          first ? `data${first.instancePath} ${first.message ?? 'is invalid'}` : 'data is invalid',
          { extensions: { errors: topic.validate.errors ?? [] } },
        );
      }
      const result = await opts.publisher.publish(topic, applicationId, event);
      report(request, result.isDuplicate ? 'duplicate' : 'accepted', result.key, event.type, body);
      return reply.code(202).send({ id: event.id, source: event.source, duplicate: result.isDuplicate });
    },
  );
}
