import type { SplError } from '@spl/problem';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { bearerToken } from '../auth/authenticator.js';
import { type Caller, InvalidTokenError } from '../auth/caller.js';
import { errors } from '../errors.js';
import type {
  GatewayObserver,
  GatewayRequestContext,
  RateLimitDecision,
  RateLimiter,
  RequestValidator,
} from '../pipeline.js';
import { splitGatewayPath } from '../routing/path.js';
import { type RouteTable, routeKey } from '../routing/route-table.js';
import type { SnapshotRuntime } from '../snapshot/snapshot-runtime.js';
import type { Forwarder } from '../upstream/forward.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request path's state; null on the gateway's own routes. */
    gateway: GatewayRequestContext | null;
  }
}

/** Every method a route may declare in OpenAPI (3.1 path item fields), plus the ones Fastify knows. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

/** RFC 6750 §3; the contract names `invalid_token` for a missing token too. */
const CHALLENGE = { 'www-authenticate': 'Bearer realm="spl", error="invalid_token"' };

export interface ProxyRouteOptions {
  runtime: SnapshotRuntime;
  forwarder: Forwarder;
  rateLimiter?: RateLimiter | undefined;
  requestValidator?: RequestValidator | undefined;
  observer?: GatewayObserver | undefined;
}

/**
 * `/{org}/{api}/{version}/{rest...}`: the request path. The checks run in the public
 * contract's order — 401 → 404 → 405 → 403 → 429 → 413 → 400 → forward — so a caller
 * without a token learns nothing about what exists. Steps 401–429 and the early 413 (by
 * Content-Length) run in `onRequest`, before any body byte is read; the body is then read
 * raw up to the route's limit (app.ts), validated, and forwarded. Each request reads the
 * route table once, at its start, and keeps it.
 */
export async function proxyRoutes(app: FastifyInstance, opts: ProxyRouteOptions): Promise<void> {
  const { runtime, forwarder, rateLimiter, requestValidator, observer } = opts;

  const invalidToken = (reason: InvalidTokenError['reason'], detail: string): SplError => {
    observer?.onAuthRejected?.(reason);
    return errors.SPL_INVALID_TOKEN(detail, { headers: CHALLENGE });
  };

  function afterRateLimit(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: GatewayRequestContext,
    decision: RateLimitDecision,
    done: HookHandlerDoneFunction,
  ) {
    if (decision.headers) reply.headers(decision.headers);
    if (!decision.allowed) {
      const headers = { 'retry-after': String(decision.retryAfterSeconds) };
      return done(
        decision.reason === 'unavailable'
          ? errors.SPL_UPSTREAM_UNAVAILABLE(decision.detail ?? 'the rate limiter is unavailable', { headers })
          : errors.SPL_RATE_LIMITED(decision.detail ?? `the rate limit of ${ctx.route!.key} is reached`, {
              headers,
            }),
      );
    }
    // 413 early, from the declared length; a chunked body is counted while it is read.
    const length = request.headers['content-length'];
    const limit = ctx.route!.plan.bodyLimitBytes;
    if (length !== undefined && Number(length) > limit)
      return done(
        errors.SPL_PAYLOAD_TOO_LARGE(`the body is larger than the ${limit} bytes ${ctx.route!.key} accepts`),
      );
    done();
  }

  function afterAuthentication(
    request: FastifyRequest,
    reply: FastifyReply,
    table: RouteTable,
    caller: Caller,
    done: HookHandlerDoneFunction,
  ) {
    const split = splitGatewayPath(request.url);
    if (!split.ok)
      return done(
        split.reason === 'bad' ? errors.SPL_BAD_PATH(split.detail) : errors.SPL_ROUTE_NOT_FOUND(split.detail),
      );
    const { org, api, version, rest, query } = split.path;
    const route = table.routes.get(routeKey(org, api, version));
    if (!route) return done(errors.SPL_ROUTE_NOT_FOUND(`no published version ${org}/${api}/${version}`));
    if (!route.methods.has(request.method)) {
      reply.header('allow', [...route.methods].join(', '));
      return done(
        errors.SPL_METHOD_NOT_ALLOWED(`${org}/${api}/${version} does not declare ${request.method}`),
      );
    }
    if (caller.applicationId === null || !route.subscribers.has(caller.applicationId))
      return done(
        errors.SPL_NOT_SUBSCRIBED(
          caller.applicationId !== null && route.suspended.has(caller.applicationId)
            ? `the subscription to ${route.key} is suspended`
            : `the calling application has no approved subscription to ${route.key}`,
        ),
      );
    const ctx: GatewayRequestContext = {
      route,
      caller,
      rest,
      query,
      upstreamStatus: null,
      upstreamMs: null,
    };
    request.gateway = ctx;
    if (!rateLimiter) return afterRateLimit(request, reply, ctx, { allowed: true }, done);
    let decision: RateLimitDecision | Promise<RateLimitDecision>;
    try {
      decision = rateLimiter.check({ route, caller, ip: request.ip });
    } catch (err) {
      return done(err as Error);
    }
    if (decision instanceof Promise)
      decision.then(
        (d) => afterRateLimit(request, reply, ctx, d, done),
        (err) => done(err),
      );
    else afterRateLimit(request, reply, ctx, decision, done);
  }

  function checkRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    reply.header('x-request-id', request.id);
    const table = runtime.table();
    if (!table)
      return done(
        errors.SPL_NOT_READY('the gateway has no snapshot yet; try again shortly', {
          headers: { 'retry-after': '5' },
        }),
      );
    const token = bearerToken(request.headers.authorization);
    if (!token) return done(invalidToken('missing', 'a bearer token is required'));
    let caller: Caller | Promise<Caller>;
    try {
      caller = table.authenticator.authenticate(token);
    } catch (err) {
      return done(err as Error);
    }
    if (caller instanceof Promise)
      caller.then(
        (c) => afterAuthentication(request, reply, table, c, done),
        (err) =>
          done(
            err instanceof InvalidTokenError
              ? invalidToken(err.reason, `the bearer token is not valid: ${err.message}`)
              : err,
          ),
      );
    else afterAuthentication(request, reply, table, caller, done);
  }

  const validate = requestValidator
    ? (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
        const ctx = request.gateway!;
        if (ctx.route!.validation === undefined) return done();
        const failure = requestValidator.validate(ctx.route!.validation, {
          method: request.method,
          rest: ctx.rest,
          query: ctx.query.slice(1),
          headers: request.headers,
          body: request.body as Buffer | undefined,
        });
        if (!failure) return done();
        done(
          errors.SPL_VALIDATION(failure.errors.map((e) => `${e.pointer} ${e.message}`).join('; '), {
            extensions: { errors: failure.errors },
          }),
        );
      }
    : undefined;

  app.route({
    method: METHODS,
    url: '/*',
    schema: { hide: true },
    onRequest: checkRequest,
    ...(validate ? { preValidation: validate } : {}),
    handler: (request, reply) => forwarder.forward(request, reply, request.gateway!),
  });
}
