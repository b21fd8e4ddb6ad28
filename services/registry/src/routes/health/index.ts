import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { RegistryContext } from '../../registry-context.js';

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });

/** Liveness and readiness (public contract). The registry is ready when its database and Redis answer. */
export async function healthRoutes(app: FastifyInstance, ctx: RegistryContext): Promise<void> {
  app.get(
    '/healthz',
    {
      config: { access: { public: true } },
      schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.String() }) } },
    },
    async () => ({ status: 'ok' }),
  );

  const withTimeout = async (what: Promise<unknown>, ms = 2000) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        what,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
        }),
      ]);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  };

  app.get(
    '/readyz',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['health'],
        response: {
          200: Type.Object({ status: Type.String(), database: Check, redis: Check }),
          503: Type.Object({ status: Type.String(), reason: Type.String(), database: Check, redis: Check }),
        },
      },
    },
    async (_request, reply) => {
      const [database, redis] = await Promise.all([
        withTimeout(ctx.db.query('SELECT 1')),
        withTimeout(ctx.redis.ping()),
      ]);
      if (database.ok && redis.ok) return { status: 'ready', database, redis };
      const reason = [!database.ok && 'database unavailable', !redis.ok && 'redis unavailable']
        .filter(Boolean)
        .join(', ');
      return reply.code(503).send({ status: 'not-ready', reason, database, redis });
    },
  );
}
