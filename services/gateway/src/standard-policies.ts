import type { Registry } from '@spl/metrics';
import type { Snapshot } from '@spl/snapshot';
import { createFederatedVerifier, type FederatedVerifierOptions, FederationError } from '@spl/token';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { type Caller, InvalidTokenError, type IssuerTokenVerifier } from './auth/caller.js';
import { errors } from './errors.js';
import { createFloodGuard, type FloodGuard } from './limits/flood-guard.js';
import {
  createRateLimiter,
  type RateLimiter as LeaseRateLimiter,
  rateLimitHeaders,
} from './limits/rate-limiter.js';
import { type AccessLog, compileUrlMasker, createAccessLog } from './observability/access-log.js';
import {
  type AuthRejectionReason,
  createGatewayMetrics,
  type GatewayMetrics,
} from './observability/gateway-metrics.js';
import type { FederatedVerifierFactory, GatewayObserver, RateLimiter, RequestValidator } from './pipeline.js';
import {
  compileRequestValidator,
  type RequestValidator as OpenApiValidator,
} from './validation/request-validator.js';

/**
 * The gateway's standard policies, each an independent module, adapted to the request
 * path's seams (pipeline.ts): the shared rate limit (limits/), OpenAPI request validation
 * (validation/), federated issuers (@spl/token federation/), metrics and the masked access log
 * (observability/) and the per-IP flood guard. server.ts installs them all; tests pick.
 */

/** Step 429: a lease-based limit per (application, API version) shared through Redis. */
export function createRateLimitStep(limiter: LeaseRateLimiter): RateLimiter {
  return {
    check({ route, caller }) {
      const key = `${caller.applicationId ?? caller.clientId}|${route.id}`;
      const decision = limiter.take(key, route.plan);
      const adapt = (d: Awaited<typeof decision>) => {
        const headers = rateLimitHeaders(d);
        if (d.allowed) return { allowed: true as const, headers };
        return {
          allowed: false as const,
          headers,
          retryAfterSeconds: d.retryAfterSeconds ?? 1,
          reason: d.degraded ? ('unavailable' as const) : ('rate' as const),
        };
      };
      return decision instanceof Promise ? decision.then(adapt) : adapt(decision);
    },
  };
}

/**
 * Step 400: the version's OpenAPI document compiled once per document hash. Operations
 * compile on first use (`lazy`), so a cold start from a snapshot with hundreds of documents
 * does not wait for all of them.
 */
export function createValidationStep(): RequestValidator<OpenApiValidator> {
  return {
    compileDocument: (document) => compileRequestValidator(document, { lazy: true }),
    validate(compiled, input) {
      const outcome = compiled.validate({
        method: input.method,
        path: input.rest === '' ? '/' : input.rest.split('?')[0]!,
        query: new URLSearchParams(input.query),
        headers: input.headers,
        body: input.body,
        contentType: input.headers['content-type'],
      });
      return outcome.ok ? null : { errors: outcome.errors };
    },
  };
}

/** Tokens of the trusted issuers in the snapshot (the national SPLP, other regions' hubs). */
export function createFederationStep(
  egress: Pick<FederatedVerifierOptions, 'isEgressAllowed' | 'fetchJwks'>,
): FederatedVerifierFactory {
  const verifier = createFederatedVerifier(egress);
  return (snapshot: Snapshot): IssuerTokenVerifier | null => {
    if (snapshot.trustedIssuers.length === 0) return null;
    verifier.update(snapshot.trustedIssuers, snapshot.applications);
    return {
      issuers: new Set(snapshot.trustedIssuers.map((t) => t.issuer)),
      async verify(token): Promise<Caller> {
        let iss: string;
        try {
          iss = String(decodeJwt(token).iss ?? '');
        } catch {
          throw new InvalidTokenError('malformed', 'token is malformed');
        }
        try {
          const id = await verifier.verify(token, iss);
          return {
            applicationId: id.applicationId,
            org: id.org,
            clientId: id.clientId,
            issuer: iss,
            expiresAt: id.exp,
          };
        } catch (err) {
          if (!(err instanceof FederationError)) throw err;
          const reason =
            err.reason === 'expired' ||
            err.reason === 'algorithm' ||
            err.reason === 'signature' ||
            err.reason === 'malformed'
              ? err.reason
              : err.reason === 'unknown-key'
                ? 'unknown-key'
                : err.reason === 'issuer' || err.reason === 'unknown-issuer'
                  ? 'issuer'
                  : 'claims';
          throw new InvalidTokenError(reason, `federated token refused (${err.reason})`);
        }
      },
    };
  };
}

export interface StandardPolicies {
  rateLimiter: RateLimiter;
  requestValidator: RequestValidator<OpenApiValidator>;
  createFederatedVerifier: FederatedVerifierFactory;
  observer: GatewayObserver;
  metrics: GatewayMetrics;
  accessLog: AccessLog;
  floodGuard: FloodGuard;
  /** Registers the per-request hooks (flood guard, metrics, access log) on the app. */
  install(app: FastifyInstance): void;
  close(): void;
}

export function createStandardPolicies(options: {
  redis: Redis;
  redisPrefix: string;
  failMode: 'open' | 'closed';
  registry: Registry;
  /** SPL_EGRESS_ALLOW for federated JWKS (`federationEgress`); tests may allow everything. */
  isEgressAllowed: (url: URL) => boolean | Promise<boolean>;
  fetchJwks?: FederatedVerifierOptions['fetchJwks'];
  floodPerSecond: number;
  floodBurst: number;
  accessLog?: AccessLog;
}): StandardPolicies {
  const limiter = createRateLimiter({
    redis: options.redis,
    prefix: options.redisPrefix,
    failMode: options.failMode,
  });
  const metrics = createGatewayMetrics({ registry: options.registry });
  const accessLog = options.accessLog ?? createAccessLog();
  const floodGuard = createFloodGuard({ perSecond: options.floodPerSecond, burst: options.floodBurst });
  let applicationSlugs = new Map<string, string>();
  let maskers = new Map<string, (url: string) => string>();

  const observer: GatewayObserver = {
    onSnapshotCompiled(snapshot) {
      applicationSlugs = new Map(snapshot.applications.map((a) => [a.id, `${a.org}/${a.slug}`]));
      maskers = new Map(snapshot.routes.map((r) => [r.id, compileUrlMasker(r.restrictedFields)]));
      metrics.prepare(snapshot.routes, [...applicationSlugs.values()]);
    },
    onSnapshotApplied(info) {
      metrics.recordSnapshot(info.version, Date.now());
    },
    onAuthRejected(reason) {
      metrics.authRejected(reason as AuthRejectionReason);
    },
    onCircuitChange(origin, state) {
      metrics.setCircuitState(origin, state);
    },
    onUpstreamHealthChange(origin, isUp) {
      metrics.setUpstreamUp(origin, isUp);
    },
    onUpstreamRetry(origin, outcome) {
      metrics.upstreamRetried(origin, outcome);
    },
    onRetryBudgetExhausted(origin) {
      metrics.retryBudgetExhausted(origin);
    },
  };

  return {
    rateLimiter: createRateLimitStep(limiter),
    requestValidator: createValidationStep(),
    createFederatedVerifier: createFederationStep({
      isEgressAllowed: options.isEgressAllowed,
      ...(options.fetchJwks ? { fetchJwks: options.fetchJwks } : {}),
    }),
    observer,
    metrics,
    accessLog,
    floodGuard,
    install(app) {
      // BKS 60(3)(c), 59(13): one client address cannot flood the hub, whatever it calls.
      // Callback hooks, not async ones: no promise per request on the hot path.
      app.addHook('onRequest', (request, reply, done) => {
        if (floodGuard.take(request.ip)) return done();
        metrics.floodRefused();
        reply.header('Retry-After', String(floodGuard.retryAfterSeconds(request.ip)));
        done(errors.SPL_RATE_LIMITED('too many requests from this address'));
      });
      app.addHook('onResponse', (request, reply, done) => {
        const ctx = request.gateway;
        if (!ctx) return done();
        const route = ctx.route;
        const application = ctx.caller?.applicationId
          ? applicationSlugs.get(ctx.caller.applicationId)
          : undefined;
        const durationMs = reply.elapsedTime;
        const routeMetrics = route ? metrics.route(route.id) : metrics.unmatched;
        routeMetrics.observeRequest(
          application,
          request.method,
          reply.statusCode,
          durationMs / 1000,
          ctx.upstreamMs === null ? undefined : ctx.upstreamMs / 1000,
        );
        if (reply.statusCode === 429) routeMetrics.rateLimited(application);
        accessLog.write(
          {
            requestId: request.id,
            ...(route ? { org: route.org, api: route.api, version: route.version } : {}),
            ...(application ? { application } : {}),
            method: request.method,
            url: request.url,
            status: reply.statusCode,
            durationMs,
            ...(ctx.upstreamMs === null ? {} : { upstreamMs: ctx.upstreamMs }),
            bytesIn: Number(request.headers['content-length'] ?? 0),
            bytesOut: Number(reply.getHeader('content-length') ?? 0),
            clientIp: request.ip,
            ...(request.clientCertificate
              ? {
                  clientCertSubject: request.clientCertificate.subject,
                  clientCertFingerprint: request.clientCertificate.fingerprint256,
                }
              : {}),
          },
          route ? maskers.get(route.id) : undefined,
        );
        done();
      });
    },
    close() {
      limiter.close();
      accessLog.flush();
    },
  };
}
