import type { AccessTokenClaims } from '@spl/token';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal, Role } from '../auth/principal.js';
import { errors } from '../errors.js';
import type { PersonSessions } from '../oauth/person-sessions.js';
import type { KeyRing } from '../oauth/signing-keys.js';

/**
 * Who may call a route, declared on the route itself (`config.access`):
 * - `{ public: true }` — anyone, no token (health, docs, OAuth2 endpoints);
 * - `{ roles: 'any' }` — any valid token;
 * - `{ roles: [...] }` — a valid token holding one of the roles.
 * Resource rules (own organisation, a named person) are checked by the handler on top.
 * A route without `access` refuses to register, so no endpoint can ship unprotected.
 */
export type Access = { public: true } | { roles: 'any' | readonly Role[] };

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route with its access rule, in registration order (the access-matrix test reads it). */
    routeAccess: RouteAccess[];
  }
}

/** Routes added by plugins we do not write (the docs UI) are public. */
const PLUGIN_PUBLIC_PREFIXES = ['/docs'];

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.SPL_UNAUTHENTICATED('a bearer token is required');
  return request.principal;
}

export const accessControlPlugin = fp(
  async (app: FastifyInstance, opts: { keyRing: KeyRing; sessions: PersonSessions }) => {
    app.decorateRequest('principal', null);
    const routes: RouteAccess[] = [];
    app.decorate('routeAccess', routes);

    app.addHook('onRoute', (route) => {
      const config = (route.config ?? {}) as { access?: Access };
      let access = config.access;
      if (!access) {
        if (!PLUGIN_PUBLIC_PREFIXES.some((p) => route.url.startsWith(p)) && route.method !== 'HEAD')
          throw new Error(`route ${String(route.method)} ${route.url} declares no access rule`);
        access = { public: true };
        route.config = { ...config, access } as never;
      }
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
    });

    const challenge = { 'WWW-Authenticate': 'Bearer realm="spl", error="invalid_token"' };

    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access;
      if (!access || 'public' in access) return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header) : null;
      if (!match)
        throw errors.SPL_UNAUTHENTICATED('a bearer token is required', {
          headers: { 'WWW-Authenticate': 'Bearer realm="spl"' },
        });
      let claims: AccessTokenClaims;
      try {
        claims = await (await opts.keyRing.verifier()).verify(match[1]!);
      } catch (first) {
        // A key rotated by another registry instance: reload the key ring once.
        opts.keyRing.invalidate();
        try {
          claims = await (await opts.keyRing.verifier()).verify(match[1]!);
        } catch {
          throw errors.SPL_UNAUTHENTICATED(`the bearer token is not valid (${(first as Error).message})`, {
            headers: challenge,
          });
        }
      }
      // BKS 59(5): a person holds one session, the newest token (oauth/person-sessions.ts).
      if (claims.spl_user) {
        const session = await opts.sessions.check(claims.client_id, claims.jti);
        if (session === 'superseded')
          throw errors.SPL_SESSION_SUPERSEDED(
            'a newer token was issued to this personal client; this one no longer works (one session per person)',
            { headers: challenge },
          );
        if (session === 'inactive')
          throw errors.SPL_UNAUTHENTICATED('the personal client of this token is disabled', {
            headers: challenge,
          });
      }
      request.principal = {
        clientId: claims.client_id,
        org: claims.spl_org,
        roles: claims.spl_roles as Role[],
        ...(claims.spl_user ? { userId: claims.spl_user } : {}),
      };
      if (access.roles !== 'any' && !request.principal.roles.some((r) => access.roles.includes(r)))
        throw errors.SPL_FORBIDDEN(`this needs one of the roles: ${access.roles.join(', ')}`);
    });
  },
  { name: 'spl-access-control' },
);
