import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import type { SnapshotRuntime } from '../snapshot/snapshot-runtime.js';

const SnapshotInfo = Type.Object({
  version: Type.Union([Type.Integer(), Type.Null()]),
  etag: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  loadedAt: Type.Union([Type.String(), Type.Null()]),
});
const Dependency = Type.Object({
  ok: Type.Boolean(),
  lastContactAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/**
 * Liveness and readiness (public contract): ready means "a snapshot is loaded". Registry
 * and Redis trouble is reported in the body and never turns a loaded gateway into a 503,
 * so an orchestrator does not pull every instance on a Redis blip.
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { runtime: SnapshotRuntime; redis?: Redis | undefined; isOffline: boolean },
): Promise<void> {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        response: {
          200: Type.Object({
            status: Type.String(),
            snapshot: SnapshotInfo,
            registry: Dependency,
            redis: Dependency,
          }),
          503: Type.Object({
            status: Type.String(),
            reason: Type.String(),
            snapshot: SnapshotInfo,
            registry: Dependency,
            redis: Dependency,
          }),
        },
      },
    },
    async (_request, reply) => {
      const s = opts.runtime.status();
      const snapshot = { version: s.version, etag: s.etag, source: s.source, loadedAt: s.loadedAt };
      const registry = opts.isOffline
        ? { ok: true, lastContactAt: null, error: 'offline: started from SPL_SNAPSHOT_FILE' }
        : {
            ok: s.lastError === null && s.lastContactAt !== null,
            lastContactAt: s.lastContactAt,
            error: s.lastError,
          };
      const redis = opts.redis
        ? {
            ok: opts.redis.status === 'ready',
            error: opts.redis.status === 'ready' ? null : opts.redis.status,
          }
        : { ok: false, error: 'not configured' };
      if (s.isLoaded) return { status: 'ready', snapshot, registry, redis };
      return reply.code(503).send({
        status: 'not-ready',
        reason: s.lastError ? `no snapshot loaded yet (${s.lastError})` : 'no snapshot loaded yet',
        snapshot,
        registry,
        redis,
      });
    },
  );
}
