import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createEgressPolicy } from '@spl/egress';
import { serverTimeouts } from '@spl/env-config';
import { createMetricsRegistry, metricsPlugin, type Registry } from '@spl/metrics';
import { openapiDocsPlugin } from '@spl/openapi-docs';
import { problemPlugin, problemType, sendProblem } from '@spl/problem';
import type { SecretBox } from '@spl/secret-box';
import { BACKEND_IDENTITY_INFO, deriveBackendIdentityKey } from '@spl/token';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from './config.js';
import { errors } from './errors.js';
import type { FederatedVerifierFactory, GatewayObserver, RateLimiter, RequestValidator } from './pipeline.js';
import { healthRoutes } from './routes/health.js';
import { oauthPassthroughRoutes } from './routes/oauth-passthrough.js';
import { proxyRoutes } from './routes/proxy.js';
import type { RouteTable } from './routing/route-table.js';
import { createSnapshotRuntime, type SnapshotRuntime } from './snapshot/snapshot-runtime.js';
import { installClientCertificates } from './tls/client-certificate.js';
import type { ServerTls } from './tls/server-tls.js';
import { createBackendIdentity } from './upstream/backend-identity.js';
import { createForwarder } from './upstream/forward.js';
import { createHealthChecker, type HealthChecker } from './upstream/health-checker.js';
import { createUpstreamPools, type UpstreamPools } from './upstream/upstream-pools.js';

export interface GatewayDeps {
  config: GatewayConfig;
  /** For snapshot change notices; without it the gateway only polls. server.ts opens it. */
  redis?: Redis | undefined;
  /** Opens sealed upstream credentials; null when no master key is available (such routes answer 502). */
  secretBox: SecretBox | null;
  /** false silences the log (tests); an object is merged into Fastify's logger options. */
  logger?: false | FastifyServerOptions['logger'];
  /** Used for the registry (snapshot and token); defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Step 429. Absent: the step is skipped. */
  rateLimiter?: RateLimiter;
  /** Step 400. Absent: the step is skipped. */
  requestValidator?: RequestValidator;
  /** Federated issuers' tokens. Absent: only the hub's own tokens are accepted. */
  createFederatedVerifier?: FederatedVerifierFactory;
  observer?: GatewayObserver;
  /** Defaults to a fresh registry with the process metrics. */
  metrics?: Registry;
  /** What /metrics serves instead of `metrics` alone (a cluster worker: every worker's, cluster.ts). */
  renderMetrics?: (() => Promise<string>) | null;
  /** Before a pool the route table no longer names is closed, milliseconds. */
  poolGraceMs?: number;
  /** TLS termination and client authentication (tls/server-tls.ts `loadServerTls`); absent: plain HTTP. */
  tls?: ServerTls | null;
  /** Adds hooks before the app is ready (the standard policies' flood guard, metrics, access log). */
  extend?: (app: FastifyInstance) => void;
}

export interface GatewayApp {
  app: FastifyInstance;
  runtime: SnapshotRuntime;
  pools: UpstreamPools;
  /** Active health checks; null when SPL_HEALTH_CHECK_SECONDS is 0. */
  healthChecker: HealthChecker | null;
  metrics: Registry;
}

/** Bodies of the gateway's own routes (the OAuth2 token request): small forms. */
const OWN_ROUTE_BODY_LIMIT = 64 * 1024;

/**
 * Builds the gateway: the snapshot runtime, the upstream pools and every route. Never
 * listens (server.ts does); the snapshot is loaded when the app becomes ready (`ready()`
 * or `listen()`), and that never waits on a registry that is down.
 */
export async function buildApp(deps: GatewayDeps): Promise<GatewayApp> {
  const { config } = deps;
  const metrics = deps.metrics ?? createMetricsRegistry('gateway');
  let log: FastifyInstance['log'] | undefined;

  const pools = createUpstreamPools({
    egress: createEgressPolicy(config.SPL_EGRESS_ALLOW),
    connections: config.SPL_UPSTREAM_CONNECTIONS,
    circuit: {
      failureThreshold: config.SPL_CIRCUIT_FAILURES,
      openMs: config.SPL_CIRCUIT_OPEN_SECONDS * 1000,
    },
    retryBudget: {
      ratio: config.SPL_RETRY_BUDGET_PERCENT / 100,
      minPerSecond: config.SPL_RETRY_BUDGET_MIN_PER_SECOND,
      windowSeconds: config.SPL_RETRY_BUDGET_WINDOW_SECONDS,
    },
    ...(deps.poolGraceMs !== undefined ? { graceMs: deps.poolGraceMs } : {}),
    onCircuitChange: (origin, state) => {
      log?.warn({ origin, state }, 'upstream circuit changed');
      deps.observer?.onCircuitChange?.(origin, state);
    },
  });
  const healthChecker =
    config.SPL_HEALTH_CHECK_SECONDS > 0
      ? createHealthChecker({
          intervalMs: config.SPL_HEALTH_CHECK_SECONDS * 1000,
          timeoutMs: config.SPL_HEALTH_CHECK_TIMEOUT_MS,
          onChange: (upstream, isUp) => {
            log?.warn({ origin: upstream.origin, isUp }, 'upstream health check changed');
            deps.observer?.onUpstreamHealthChange?.(upstream.origin, isUp);
          },
        })
      : null;
  const runtime = createSnapshotRuntime({
    config,
    redis: deps.redis,
    fetch: deps.fetch,
    observer: deps.observer,
    ...(healthChecker ? { onTableApplied: (table: RouteTable) => healthChecker.update(table) } : {}),
    tableDeps: {
      issuer: config.publicUrl,
      audience: config.SPL_TOKEN_AUDIENCE,
      pools,
      secretBox: deps.secretBox,
      tokenCacheSize: config.SPL_TOKEN_CACHE_SIZE,
      requestValidator: deps.requestValidator,
      createFederatedVerifier: deps.createFederatedVerifier,
      onRouteProblem: (route, detail) =>
        log?.error({ route: `${route.org}/${route.api}/${route.version}`, detail }, 'route cannot be served'),
    },
    onError: (err) => log?.warn({ err: { message: err.message } }, 'snapshot trouble'),
  });

  // Fastify types the server by the presence of `https`; the instance is used as a plain
  // FastifyInstance either way (request.raw.socket is a TLSSocket when TLS is on).
  // A client trickling its request is cut off: its head after SPL_HEADERS_TIMEOUT_MS
  // (slowloris), the whole request after SPL_REQUEST_TIMEOUT_MS (slow body).
  const timeouts = serverTimeouts(config);
  const tlsOption = deps.tls
    ? ({ https: { ...deps.tls.options, ...timeouts } } as object)
    : { http: timeouts };
  const app = Fastify({
    ...tlsOption,
    requestTimeout: config.SPL_REQUEST_TIMEOUT_MS,
    logger:
      deps.logger === false
        ? false
        : {
            level: config.SPL_LOG_LEVEL,
            // Tokens and secrets never reach a log (BKS 59(9)(c)).
            redact: ['req.headers.authorization', 'req.headers.cookie', '*.clientSecret', '*.secret'],
            ...(typeof deps.logger === 'object' ? deps.logger : {}),
          },
    // Fastify's own per-request lines would log raw paths, which may carry a NIK; the access
    // log with personal-data masking replaces them (observability/).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    // A URL the router cannot decode (`%zz`) is refused before any hook runs; answer it as
    // problem+json like every other error (it cannot name a route, so nothing is revealed).
    frameworkErrors: (error, request, reply) => {
      const code = error.code === 'FST_ERR_BAD_URL' ? 'SPL_BAD_PATH' : 'SPL_BAD_REQUEST';
      void sendProblem(reply, {
        type: problemType(code),
        title: code === 'SPL_BAD_PATH' ? errors.SPL_BAD_PATH.spec.title : 'Bad request',
        status: 400,
        code,
        detail: code === 'SPL_BAD_PATH' ? 'the path contains malformed percent-encoding' : error.message,
        requestId: request.id,
      });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  log = app.log;
  // The key of X-SPL-Identity: derived from the master key like the registry's published one.
  const identity = deps.secretBox
    ? createBackendIdentity({
        key: await deriveBackendIdentityKey(deps.secretBox.deriveKey(BACKEND_IDENTITY_INFO)),
        issuer: config.publicUrl,
      })
    : null;
  if (!identity) app.log.warn('no master key: upstreams get no X-SPL-Identity header');
  app.decorateRequest('gateway', null);
  // First of every onRequest hook: a bad client certificate is refused before anything else.
  installClientCertificates(app, deps.tls?.clientAuth ?? 'none');

  // The gateway forwards bodies as bytes: nothing is parsed, every content type is taken,
  // and the limit is the route's plan (read by the request path before the body is).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const limit = request.gateway?.route?.plan.bodyLimitBytes ?? OWN_ROUTE_BODY_LIMIT;
    const chunks: Buffer[] = [];
    let size = 0;
    let isDone = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (isDone) return;
      isDone = true;
      done(err, body);
    };
    payload.on('data', (chunk: Buffer) => {
      if (isDone) return;
      size += chunk.length;
      if (size > limit) {
        payload.resume(); // drain what is still coming; the answer does not wait for it
        return finish(
          errors.SPL_PAYLOAD_TOO_LARGE(`the body is larger than the ${limit} bytes accepted here`),
        );
      }
      chunks.push(chunk);
    });
    payload.on('end', () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    payload.on('error', (err) => finish(err));
  });

  await app.register(problemPlugin);
  await app.register(openapiDocsPlugin, {
    title: 'SPL gateway',
    description:
      'The admin surface of the gateway of the regional Sistem Penghubung Layanan: health, readiness, metrics, and the OAuth2 endpoints forwarded to the registry. The proxied APIs are documented in the registry catalogue, not here.',
    version: '0.1.0',
  });
  await app.register(metricsPlugin, {
    registry: metrics,
    prefix: 'spl_gateway',
    // Proxied calls are counted by route template and application in observability/.
    skip: (request) => request.gateway !== null,
    ...(deps.renderMetrics ? { render: deps.renderMetrics } : {}),
  });
  await app.register(healthRoutes, {
    runtime,
    redis: deps.redis,
    isOffline: Boolean(config.SPL_SNAPSHOT_FILE),
  });
  await app.register(oauthPassthroughRoutes, { registryUrl: config.registryUrl });
  await app.register(proxyRoutes, {
    runtime,
    forwarder: createForwarder({
      bufferLimitBytes: config.SPL_BUFFER_RESPONSE_BYTES,
      retryAfterSeconds: Math.min(config.SPL_CIRCUIT_OPEN_SECONDS, 5),
      observer: deps.observer,
      identity,
      retry: { attempts: config.SPL_RETRY_ATTEMPTS, isTimeoutRetried: config.SPL_RETRY_TIMEOUTS },
    }),
    rateLimiter: deps.rateLimiter,
    requestValidator: deps.requestValidator,
    observer: deps.observer,
  });

  deps.extend?.(app);
  app.addHook('onReady', async () => {
    await runtime.start();
  });
  app.addHook('onClose', async () => {
    healthChecker?.close();
    await runtime.close().catch(() => {});
    await pools.close().catch(() => {});
  });
  return { app, runtime, pools, healthChecker, metrics };
}
