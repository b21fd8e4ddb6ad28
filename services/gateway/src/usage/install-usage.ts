import type { FastifyInstance } from 'fastify';
import type { UsageAggregator } from './usage-aggregator.js';

/**
 * Counts every proxied request that matched an API version into `aggregator` (issue 3,
 * point 11). Requests that matched no route (404 before routing) are not an API's usage.
 * Latency is the gateway's whole time for the request, as the consumer sees it.
 */
export function installUsage(app: FastifyInstance, aggregator: UsageAggregator): void {
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const ctx = request.gateway;
    const route = ctx?.route;
    if (!route) return done();
    const caller = ctx.caller;
    aggregator.record(
      route,
      caller ? caller.applicationId : null,
      caller ? caller.issuer : null,
      reply.statusCode,
      Number(request.headers['content-length'] ?? 0) || 0,
      Number(reply.getHeader('content-length') ?? 0) || 0,
      reply.elapsedTime,
    );
    done();
  });
}
