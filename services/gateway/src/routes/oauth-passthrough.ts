import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { errors } from '../errors.js';

/** The OAuth2 paths the registry serves, reachable through the gateway (public contract). */
export const OAUTH_PATHS = [
  { method: 'GET', url: '/.well-known/oauth-authorization-server' },
  { method: 'POST', url: '/oauth2/token' },
  { method: 'GET', url: '/oauth2/jwks' },
] as const;

const FORWARDED_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'accept-encoding',
  'user-agent',
];
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
]);

/**
 * Forwards the OAuth2 metadata, token and JWKS requests to the registry unchanged — body,
 * status and headers such as `Cache-Control: no-store` and `WWW-Authenticate` — so a client
 * that discovers from the issuer (the gateway's address) works (RFC 8414 §3).
 */
export async function oauthPassthroughRoutes(
  app: FastifyInstance,
  opts: { registryUrl: string; timeoutMs?: number },
): Promise<void> {
  const registry = new URL(opts.registryUrl);
  const basePath = registry.pathname.replace(/\/+$/, '');
  const pool = new Pool(registry.origin, { connections: 8 });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  app.addHook('onClose', async () => {
    await pool.close();
  });

  for (const { method, url } of OAUTH_PATHS) {
    app.route({
      method,
      url,
      schema: { tags: ['oauth2'], summary: `Forwarded to the registry's ${url}` },
      handler: async (request, reply) => {
        const headers: Record<string, string> = {
          'x-request-id': request.id,
          'x-forwarded-for': request.ip,
          'x-forwarded-proto': request.protocol,
        };
        if (request.headers.host) headers['x-forwarded-host'] = request.headers.host;
        for (const name of FORWARDED_REQUEST_HEADERS) {
          const value = request.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const query = request.url.indexOf('?');
        let res: Awaited<ReturnType<Pool['request']>>;
        try {
          res = await pool.request({
            method,
            path: `${basePath}${url}${query === -1 ? '' : request.url.slice(query)}`,
            headers,
            body: (request.body as Buffer | undefined) ?? null,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          });
        } catch (cause) {
          throw errors.SPL_REGISTRY_UNAVAILABLE('the registry (authorization server) is not reachable', {
            cause,
            headers: { 'retry-after': '5' },
          });
        }
        const body = Buffer.from(await res.body.arrayBuffer());
        reply.code(res.statusCode);
        for (const [name, value] of Object.entries(res.headers))
          if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) reply.header(name, value);
        return reply.send(body);
      },
    });
  }
}
