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
  maxmemoryPolicy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  backlog: Type.Optional(Type.Integer()),
});
const Ready = Type.Object({
  status: Type.String(),
  reason: Type.Optional(Type.String()),
  snapshot: SnapshotInfo,
  registry: Dependency,
  redis: Dependency,
});

/**
 * Liveness and readiness (public contract): ready means "a snapshot is loaded". Registry and
 * Redis trouble is reported in the body, never as a 503.
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: {
    runtime: SnapshotRuntime;
    redis: Redis;
    isOffline: boolean;
    /** The last `maxmemory-policy` read at start-up (null when Redis did not say). */
    maxmemoryPolicy: () => string | null;
    backlog?: () => number;
  },
): Promise<void> {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: Ready, 503: Ready } } },
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
      const policy = opts.maxmemoryPolicy();
      const isReady = opts.redis.status === 'ready';
      const redis = {
        ok: isReady && (policy === null || policy === 'noeviction'),
        error: !isReady
          ? opts.redis.status
          : policy && policy !== 'noeviction'
            ? `maxmemory-policy is ${policy}: Redis may evict queued events (set noeviction)`
            : null,
        maxmemoryPolicy: policy,
        ...(opts.backlog ? { backlog: opts.backlog() } : {}),
      };
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
