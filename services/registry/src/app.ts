import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { serverTimeouts } from '@spl/env-config';
import { createMetricsRegistry, metricsPlugin } from '@spl/metrics';
import { openapiDocsPlugin } from '@spl/openapi-docs';
import { problemPlugin, problemType, sendProblem } from '@spl/problem';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { createMutator } from './audit/mutations.js';
import { SYSTEM_ACTOR } from './auth/principal.js';
import { applySecretMaxAgeAtStart, bootstrapStore } from './bootstrap.js';
import { errors } from './errors.js';
import { createClientLockout } from './oauth/client-lockout.js';
import { createPersonSessions } from './oauth/person-sessions.js';
import { registerSecretExpiryMetrics } from './oauth/secret-expiry-metrics.js';
import { createKeyRing } from './oauth/signing-keys.js';
import { accessControlPlugin } from './plugins/access-control.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { createRedisKeys } from './redis-keys.js';
import type { RegistryContext, RegistryDeps } from './registry-context.js';
import { apiRoutes } from './routes/apis/index.js';
import { applicationRoutes } from './routes/applications/index.js';
import { auditRoutes } from './routes/audit/index.js';
import { declarativeRoutes } from './routes/declarative/index.js';
import { healthRoutes } from './routes/health/index.js';
import { inboxRoutes } from './routes/inbox/index.js';
import { keyRoutes } from './routes/keys/index.js';
import { monevRoutes } from './routes/monev/index.js';
import { oauthRoutes } from './routes/oauth/index.js';
import { organisationRoutes } from './routes/organisations/index.js';
import { slaRoutes } from './routes/sla/index.js';
import { snapshotRoutes } from './routes/snapshot/index.js';
import { spbeRoutes } from './routes/spbe/index.js';
import { statusRoutes } from './routes/status/index.js';
import { subscriptionRoutes } from './routes/subscriptions/index.js';
import { topicRoutes } from './routes/topics/index.js';
import { trustedIssuerRoutes } from './routes/trusted-issuers/index.js';
import { usageRoutes } from './routes/usage/index.js';
import { userRoutes } from './routes/users/index.js';
import { type SlaOptions, startSla } from './sla/start-sla.js';
import { createSnapshotService } from './snapshot/snapshot-service.js';
import { migrate } from './store/migrate.js';
import { createUsageIngester, type UsageIngesterOptions } from './usage/usage-ingester.js';

export interface RegistryApp {
  app: FastifyInstance;
  ctx: RegistryContext;
  /** Credentials of the bootstrap operator when this start created it; hand over once. */
  bootstrapCredentials: { clientId: string; clientSecret: string } | null;
}

/**
 * Builds the registry: migrates the store, makes sure a signing key and the bootstrap
 * client exist, and registers every route group. Never listens; server.ts does.
 */
/** What a request log line says of the request: the query keeps its names, not its values. */
function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  const at = req.url.indexOf('?');
  const url =
    at < 0
      ? req.url
      : `${req.url.slice(0, at)}?${req.url
          .slice(at + 1)
          .split('&')
          .map((pair) => `${pair.split('=')[0]}=…`)
          .join('&')}`;
  return {
    method: req.method,
    url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export async function buildApp(
  deps: RegistryDeps & {
    /** Tuning of the usage ingester (tests shorten the claim idle time). */
    usage?: Pick<UsageIngesterOptions, 'batchSize' | 'blockMs' | 'claimIdleMs' | 'claimIntervalMs'>;
    /** Timing of the SLA prober in milliseconds, instead of the config's seconds (tests). */
    probe?: SlaOptions['timing'];
  },
): Promise<RegistryApp> {
  const clock = deps.clock ?? (() => new Date());
  const { config, db, redis } = deps;
  await migrate(db);

  const keys = createRedisKeys(config.SPL_REDIS_PREFIX);
  const metrics = createMetricsRegistry('registry');
  // Background compile failures are logged once the app (and its logger) exists.
  let log: FastifyInstance['log'] | undefined;
  const snapshots = createSnapshotService({
    db,
    redis,
    keys,
    clock,
    issuer: config.publicUrl,
    audience: config.SPL_TOKEN_AUDIENCE,
    metrics,
    onError: (err, what) => log?.error({ err }, `snapshot ${what} failed`),
  });
  const mutate = createMutator(db, clock, () => snapshots.markChanged());
  const keyRing = createKeyRing({
    db,
    mutate,
    secretBox: deps.secretBox,
    clock,
    issuer: config.publicUrl,
    audience: config.SPL_TOKEN_AUDIENCE,
    tokenLifetimeSeconds: config.SPL_TOKEN_LIFETIME_SECONDS,
    rotationDays: config.SPL_KEY_ROTATION_DAYS,
  });
  const lockout = createClientLockout(
    redis,
    keys,
    {
      slowdownAfter: config.SPL_AUTH_SLOWDOWN_AFTER,
      lockoutAfter: config.SPL_AUTH_LOCKOUT_AFTER,
      windowSeconds: config.SPL_AUTH_LOCKOUT_SECONDS,
    },
    metrics,
  );
  registerSecretExpiryMetrics({ db, clock, metrics });
  const sessions = createPersonSessions(db);
  const ctx: RegistryContext = {
    config,
    db,
    redis,
    secretBox: deps.secretBox,
    clock,
    keys,
    mutate,
    keyRing,
    lockout,
    sessions,
    snapshots,
  };

  await keyRing.ensureActiveKey(SYSTEM_ACTOR);
  const bootstrapCredentials = await bootstrapStore(ctx);
  await applySecretMaxAgeAtStart(ctx);

  const app = Fastify({
    // A client trickling its request (slowloris, slow body) is cut off: SPL_HEADERS_TIMEOUT_MS, SPL_REQUEST_TIMEOUT_MS.
    http: serverTimeouts(config),
    requestTimeout: config.SPL_REQUEST_TIMEOUT_MS,
    logger:
      deps.logger === false
        ? false
        : {
            level: config.SPL_LOG_LEVEL,
            // Secrets and tokens never reach a log (BKS 59(9)(c)).
            redact: [
              'req.headers.authorization',
              'req.headers.cookie',
              '*.client_secret',
              '*.clientSecret',
              '*.secret',
            ],
            // The request line is logged without its query values: a client that puts a token
            // or a NIK in the query (`?access_token=…`) must not see it in the log (found by
            // test/hostile/log-scan.test.ts).
            serializers: { req: serializeRequest },
            ...(typeof deps.logger === 'object' ? deps.logger : {}),
          },
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    bodyLimit: config.SPL_OPENAPI_MAX_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // The router refuses a URL it cannot decode (`%zz`, `%c0%af`) or a path parameter over
    // its length limit before any hook runs; answer those as problem+json too, without
    // echoing the URL (found by the hostile-input fuzz, test/hostile/registry-fuzz.test.ts).
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply, {
        type: problemType('SPL_VALIDATION'),
        title: errors.SPL_VALIDATION.spec.title,
        status: 400,
        code: 'SPL_VALIDATION',
        detail:
          error.code === 'FST_ERR_BAD_URL'
            ? 'the path contains malformed percent-encoding'
            : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
              ? 'a path segment is too long'
              : 'the request could not be read',
        requestId: request.id,
      });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  log = app.log;

  // The registry speaks JSON (and form bodies at the token endpoint); anything else is 415.
  app.removeContentTypeParser('text/plain');
  await app.register(securityHeadersPlugin);
  await app.register(problemPlugin);
  await app.register(accessControlPlugin, { keyRing, sessions });
  await app.register(openapiDocsPlugin, {
    title: 'SPL registry',
    description:
      'Service directory, metadata repository, approvals, consent, audit trail and OAuth2 authorization server of the regional Sistem Penghubung Layanan.',
    version: '0.1.0',
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
  });
  await app.register(metricsPlugin, {
    registry: metrics,
    prefix: 'spl_registry',
    routeConfig: { access: { public: true } },
  });

  await app.register(healthRoutes, ctx);
  await app.register(oauthRoutes, ctx);
  await app.register(organisationRoutes, ctx);
  await app.register(apiRoutes, ctx);
  await app.register(userRoutes, ctx);
  await app.register(auditRoutes, ctx);
  await app.register(declarativeRoutes, ctx);
  await app.register(trustedIssuerRoutes, ctx);
  await app.register(applicationRoutes, ctx);
  await app.register(subscriptionRoutes, ctx);
  await app.register(topicRoutes, ctx);
  await app.register(inboxRoutes, ctx);
  await app.register(snapshotRoutes, ctx);
  await app.register(keyRoutes, ctx);
  await app.register(usageRoutes, ctx);
  await app.register(slaRoutes, ctx);
  await app.register(monevRoutes, ctx);
  await app.register(statusRoutes, ctx);
  await app.register(spbeRoutes, ctx);

  // The gateways' usage records, from the Redis stream into usage_minutes (usage/).
  const usageIngester = createUsageIngester({
    db,
    redis,
    stream: keys.usageStream,
    ...deps.usage,
    onError: (err, what) => log?.error({ err }, `usage ${what} failed`),
  });
  await usageIngester.start();

  // The measured SLA: the prober (one instance at a time) and its metrics (sla/).
  const sla = startSla({
    ctx,
    metrics,
    ...(deps.probe ? { timing: deps.probe } : {}),
    onError: (err, what) => log?.warn({ err }, `sla ${what} failed`),
  });

  app.addHook('onClose', async () => {
    await sla.stop().catch((err) => app.log.error({ err }, 'stopping the prober failed'));
    // Before the store closes: the batch in hand is stored and acknowledged first.
    await usageIngester.stop().catch((err) => app.log.error({ err }, 'stopping usage ingester failed'));
    await snapshots.close();
  });
  return { app, ctx, bootstrapCredentials };
}
