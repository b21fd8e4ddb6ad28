import formbody from '@fastify/formbody';
import { isSplError } from '@spl/problem';
import { BACKEND_IDENTITY_INFO, deriveBackendIdentityKey, signAccessToken } from '@spl/token';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Role } from '../../auth/principal.js';
import { ROLE_NAMES } from '../../config.js';
import { authenticateClient, hasWorkingSecret } from '../../oauth/clients.js';
import type { RegistryContext } from '../../registry-context.js';

/** RFC 6749 §5.2 errors: the one place the hub does not answer problem+json. */
type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope';

class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  const status = err.error === 'invalid_client' ? 401 : 400;
  if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="spl", charset="UTF-8"');
  return reply
    .code(status)
    .header('Cache-Control', 'no-store')
    .header('Pragma', 'no-cache')
    .type('application/json')
    .send({ error: err.error, error_description: err.description });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string | undefined): { id: string; secret: string } | null | 'malformed' {
  if (!header) return null;
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!m) return header.toLowerCase().startsWith('basic') ? 'malformed' : null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    return 'malformed';
  }
}

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.Optional(Type.String()),
});

const OAuthErrorResponse = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
});

/**
 * The hub's OAuth2 authorization server: RFC 8414 metadata, the client credentials grant
 * (RFC 6749 §4.4) with client_secret_basic and client_secret_post, RFC 9068 JWT access
 * tokens, and the JWKS (RFC 7517). Paths are fixed by the public contract.
 */
export async function oauthRoutes(app: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const { config } = ctx;
  const issuer = config.publicUrl;
  // The gateway signs identity JWTs to upstreams with a key both derive from the master key
  // (issue 3 §5): published here beside the hub keys, never in the snapshot's hubKeys.
  const backendIdentity = await deriveBackendIdentityKey(ctx.secretBox.deriveKey(BACKEND_IDENTITY_INFO));

  app.get(
    '/.well-known/oauth-authorization-server',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['oauth2'],
        summary: 'Authorization server metadata (RFC 8414)',
        response: {
          200: Type.Object({
            issuer: Type.String(),
            token_endpoint: Type.String(),
            jwks_uri: Type.String(),
            grant_types_supported: Type.Array(Type.String()),
            token_endpoint_auth_methods_supported: Type.Array(Type.String()),
            response_types_supported: Type.Array(Type.String()),
            scopes_supported: Type.Array(Type.String()),
            service_documentation: Type.String(),
          }),
        },
      },
    },
    async () => ({
      issuer,
      token_endpoint: `${issuer}/oauth2/token`,
      jwks_uri: `${issuer}/oauth2/jwks`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
      scopes_supported: [...ROLE_NAMES],
      service_documentation: `${issuer}/docs`,
    }),
  );

  app.get(
    '/oauth2/jwks',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['oauth2'],
        summary: 'Public keys that sign the hub’s tokens (RFC 7517)',
        response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) },
      },
    },
    async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=60');
      const { keys } = await ctx.keyRing.jwks();
      return { keys: [...keys, backendIdentity.publicJwk] };
    },
  );

  await app.register(async (tokenScope) => {
    await tokenScope.register(formbody, { bodyLimit: 4096 });
    tokenScope.setErrorHandler((err, _request, reply) => {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      // The database away: RFC 6749 §4.1.2.1's temporarily_unavailable, as a 503 with Retry-After.
      if (isSplError(err) && err.status === 503) {
        _request.log.warn({ err }, 'token endpoint: database unavailable');
        return reply
          .code(503)
          .headers({ 'Cache-Control': 'no-store', ...err.headers })
          .type('application/json')
          .send({ error: 'temporarily_unavailable', error_description: err.message });
      }
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      if (status >= 500) {
        _request.log.error({ err }, 'token endpoint failed');
        return reply.code(500).header('Cache-Control', 'no-store').send({ error: 'server_error' });
      }
      return sendOAuthError(
        reply,
        new OAuthError('invalid_request', 'the request is not a valid token request'),
      );
    });

    tokenScope.post(
      '/oauth2/token',
      {
        config: { access: { public: true } },
        schema: {
          tags: ['oauth2'],
          summary: 'Token endpoint: client credentials grant (RFC 6749 §4.4)',
          consumes: ['application/x-www-form-urlencoded'],
          response: {
            200: TokenResponse,
            400: OAuthErrorResponse,
            401: OAuthErrorResponse,
            503: OAuthErrorResponse,
          },
        },
      },
      async (request, reply) => {
        if (
          !(request.headers['content-type'] ?? '')
            .toLowerCase()
            .startsWith('application/x-www-form-urlencoded')
        )
          throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
        const body = (request.body ?? {}) as Record<string, unknown>;
        for (const [k, v] of Object.entries(body))
          if (typeof v !== 'string') throw new OAuthError('invalid_request', `parameter ${k} is repeated`);
        const form = body as Record<string, string | undefined>;

        const basic = parseBasic(request.headers.authorization);
        if (basic === 'malformed') throw new OAuthError('invalid_client', 'malformed Basic credentials');
        if (
          basic &&
          (form.client_secret !== undefined || (form.client_id !== undefined && form.client_id !== basic.id))
        )
          throw new OAuthError('invalid_request', 'use one client authentication method, not two');
        const clientId = basic?.id ?? form.client_id;
        const clientSecret = basic?.secret ?? form.client_secret;
        if (!form.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
        if (!clientId || !clientSecret)
          throw new OAuthError('invalid_client', 'client authentication is required');

        if (await ctx.lockout.isLocked(clientId)) {
          request.log.warn({ clientId }, 'client authentication refused: locked out');
          throw new OAuthError('invalid_client', 'client authentication failed');
        }
        const principal = await authenticateClient(ctx.db, clientId, clientSecret, ctx.clock());
        if (!principal) {
          // An expired secret (SPL_SECRET_MAX_AGE_DAYS) is answered as any failure and counted
          // towards the lockout; only the log says which, for the operator the person calls.
          const delayMs = await ctx.lockout.recordFailure(clientId);
          const reason = (await hasWorkingSecret(ctx.db, clientId, ctx.clock()))
            ? 'wrong secret, unknown or disabled client'
            : 'no working secret (expired, or unknown client)';
          request.log.warn({ clientId, delayMs, reason }, 'client authentication failed');
          if (delayMs) await sleep(delayMs);
          throw new OAuthError('invalid_client', 'client authentication failed');
        }
        await ctx.lockout.reset(clientId);
        if (form.grant_type !== 'client_credentials')
          throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported');

        let roles = principal.roles;
        let scope: string | undefined;
        if (form.scope !== undefined) {
          const requested = form.scope.split(' ').filter(Boolean) as Role[];
          const refused = requested.filter((r) => !principal.roles.includes(r));
          if (requested.length === 0 || refused.length)
            throw new OAuthError(
              'invalid_scope',
              `scope not granted to this client: ${refused.join(' ') || '(empty)'}`,
            );
          roles = requested;
          scope = requested.join(' ');
        }
        const { token, claims } = await signAccessToken(await ctx.keyRing.activeKey(), {
          issuer,
          audience: config.SPL_TOKEN_AUDIENCE,
          clientId,
          org: principal.org,
          roles,
          ...(principal.userId ? { userId: principal.userId } : {}),
          ...(scope ? { scope } : {}),
          lifetimeSeconds: config.SPL_TOKEN_LIFETIME_SECONDS,
          now: ctx.clock().getTime(),
        });
        // One session per person (BKS 59(5)): this token ends the person's older ones.
        if (principal.userId) await ctx.sessions.begin(clientId, claims.jti);
        reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
        return {
          access_token: token,
          token_type: 'Bearer' as const,
          expires_in: config.SPL_TOKEN_LIFETIME_SECONDS,
          ...(scope ? { scope } : {}),
        };
      },
    );
  });
}
