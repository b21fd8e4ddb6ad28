import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * A metrics registry per app instance (never prom-client's global one, so two apps in one
 * test process do not collide), with the default process metrics under `spl_<service>_`.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Counts requests by route template (never the raw path, so cardinality stays bounded),
 * method and status, with a latency histogram; serves the registry at GET /metrics.
 */
export const metricsPlugin = fp(
  async (
    app: FastifyInstance,
    opts: {
      registry: Registry;
      prefix: string /** Merged into the /metrics route's config (e.g. an access rule). */;
      routeConfig?: object;
      /** What GET /metrics serves instead of the registry's text (e.g. a cluster's aggregate). */
      render?: () => Promise<string>;
      /** Requests not counted here (the gateway's proxied calls have metrics of their own). */
      skip?: (request: FastifyRequest) => boolean;
    },
  ) => {
    const requests = new Counter({
      name: `${opts.prefix}_http_requests_total`,
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [opts.registry],
    });
    const duration = new Histogram({
      name: `${opts.prefix}_http_request_duration_seconds`,
      help: 'Time to answer an HTTP request, by route template and method',
      labelNames: ['route', 'method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [opts.registry],
    });
    const skip = opts.skip;
    // A callback hook, not an async one: no promise per request.
    app.addHook('onResponse', (request, reply, done) => {
      if (skip?.(request)) return done();
      // routeOptions is a getter that builds an object: read it once, after the skip.
      const route = request.routeOptions.url ?? 'unmatched';
      if (route !== '/metrics') {
        requests.inc({ route, method: request.method, status: String(reply.statusCode) });
        duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
      }
      done();
    });
    app.get(
      '/metrics',
      {
        // Documented like every other route (OWASP API9:2023: nothing served undocumented).
        schema: {
          summary: 'Prometheus metrics',
          description: 'The Prometheus text exposition format (text/plain; version=0.0.4).',
        },
        config: { ...opts.routeConfig },
      },
      async (_request, reply) => {
        reply.type(opts.registry.contentType);
        return opts.render ? opts.render() : opts.registry.metrics();
      },
    );
  },
  { name: '@spl/metrics' },
);
