import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Serves a service's OpenAPI 3.1 document at GET /docs/json and its HTML reference at
 * GET /docs. The document is generated from the routes' TypeBox schemas, so it cannot
 * drift from what the service validates. @fastify/swagger emits 3.0 unless told 3.1.
 */
export const openapiDocsPlugin = fp(
  async (
    app: FastifyInstance,
    opts: { title: string; description: string; version: string; securitySchemes?: Record<string, unknown> },
  ) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: opts.title, description: opts.description, version: opts.version },
        components: { securitySchemes: (opts.securitySchemes ?? {}) as never },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  },
  { name: '@spl/openapi-docs' },
);
