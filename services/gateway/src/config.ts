import { ConfigError, loadConfig, ServerTimeoutSettings } from '@spl/env-config';
import { type Static, Type } from 'typebox';

/** The gateway's environment: every variable, its unit and default, in one place (docs/configuration.md). */
export const GatewayConfigSchema = Type.Object({
  SPL_MODE: Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }),
  SPL_HOST: Type.String({ default: '127.0.0.1' }),
  SPL_GATEWAY_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  /** Base URL of the registry: the snapshot and the OAuth2 endpoints forwarded through the gateway. */
  SPL_REGISTRY_URL: Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$', default: 'http://127.0.0.1:8081' }),
  /** A registry data-plane client (`POST /v1/dataplane-clients`); required unless SPL_SNAPSHOT_FILE is set. */
  SPL_GATEWAY_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  SPL_GATEWAY_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** Start offline from this snapshot file (exactly as GET /v1/snapshot answers); no registry contact. */
  SPL_SNAPSHOT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** Seconds between If-None-Match polls of the registry, the fallback to Redis notices; 0 disables. */
  SPL_SNAPSHOT_POLL_SECONDS: Type.Integer({ minimum: 0, default: 30 }),
  /** The hub's one public base URL and token issuer; defaults to the gateway's own address. */
  SPL_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$' })),
  SPL_TOKEN_AUDIENCE: Type.String({ minLength: 1, default: 'spl' }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  /** Prefix of every Redis key and channel this hub uses (the registry's, so notices arrive). */
  SPL_REDIS_PREFIX: Type.String({ pattern: '^[a-zA-Z0-9_-]+$', default: 'spl' }),
  /** The stored snapshot lives in `<SPL_DATA_DIR>/gateway/`. */
  SPL_DATA_DIR: Type.String({ default: '.spl/data' }),
  /** 32 bytes, base64 or hex, opening sealed upstream credentials. Development: `<SPL_DATA_DIR>/master.key`. */
  SPL_MASTER_KEY: Type.Optional(Type.String({ minLength: 43 })),
  /**
   * Comma list of hosts (`api.example.go.id`, `*.example.go.id`), IP addresses and CIDRs outbound
   * calls may reach; `*` allows any public address. Loopback, private and link-local addresses
   * are refused unless their address or range is listed.
   */
  SPL_EGRESS_ALLOW: Type.String({ default: '*' }),
  /** Keep-alive connections per upstream origin. */
  SPL_UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
  /** Consecutive transport failures (refused, reset, timeout) that open an upstream's circuit. */
  SPL_CIRCUIT_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  /** How long an open circuit refuses calls before one probe is let through, seconds. */
  SPL_CIRCUIT_OPEN_SECONDS: Type.Integer({ minimum: 1, default: 30 }),
  /** Upstream answers up to this many bytes (by Content-Length) are buffered; larger ones stream. */
  SPL_BUFFER_RESPONSE_BYTES: Type.Integer({ minimum: 0, default: 64 * 1024 }),
  /** Verified tokens kept in memory until their expiry (least recently used evicted first). */
  SPL_TOKEN_CACHE_SIZE: Type.Integer({ minimum: 1, default: 10_000 }),
  /** When Redis cannot be reached: `open` serves without the shared limit, `closed` answers 503. */
  SPL_RATE_LIMIT_FAIL_MODE: Type.Enum(['open', 'closed'], { default: 'open' }),
  /** Per client IP, whatever it calls: sustained requests per second (BKS 60(3)(c), 59(13)). */
  SPL_FLOOD_PER_SECOND: Type.Integer({ minimum: 1, default: 500 }),
  /** Per client IP: requests at once (the bucket's size). */
  SPL_FLOOD_BURST: Type.Integer({ minimum: 1, default: 1000 }),
  /** A signed checkpoint of the evidence log after this many records (issue 3 §10). */
  SPL_EVIDENCE_CHECKPOINT_EVERY: Type.Integer({ minimum: 1, default: 1000 }),
  /** … or after this many seconds, whichever comes first. */
  SPL_EVIDENCE_CHECKPOINT_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  /** Set when a TLS-terminating proxy sits in front (production otherwise refuses plain HTTP). */
  SPL_BEHIND_TLS_PROXY: Type.Boolean({ default: false }),
  /**
   * PEM certificate (leaf first, then intermediates) the gateway terminates TLS with; with
   * SPL_TLS_KEY_FILE. Unset: plain HTTP. Read once at start-up (tls/server-tls.ts).
   */
  SPL_TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM private key of SPL_TLS_CERT_FILE (unencrypted). */
  SPL_TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM CA certificates client certificates must chain to; required when SPL_TLS_CLIENT_AUTH is not `none`. */
  SPL_TLS_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Mutual TLS for clients (BKS 60(3)(i)): `none` asks for no certificate; `optional` asks and
   * refuses one that does not verify against SPL_TLS_CA_FILE (403), but serves callers without
   * one; `required` refuses the TLS handshake of a client without a verified certificate.
   */
  SPL_TLS_CLIENT_AUTH: Type.Enum(['none', 'optional', 'required'], { default: 'none' }),
  SPL_LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
  /**
   * Worker processes (node:cluster) sharing the port; 1 runs the gateway in this process, 0
   * starts one per CPU. Each worker is a full gateway (its own evidence chain, usage records
   * and rate-limit leases); /metrics answers for all of them.
   */
  SPL_GATEWAY_WORKERS: Type.Integer({ minimum: 0, maximum: 64, default: 1 }),
  // Resilience (issue 3 §8; docs/gateway.md "Resilience").
  /** Retries of an idempotent request (GET, HEAD, OPTIONS, PUT, DELETE) after a transport failure; 0 disables. */
  SPL_RETRY_ATTEMPTS: Type.Integer({ minimum: 0, maximum: 3, default: 1 }),
  /** Also retry connect and response-header timeouts (a retry can then double the caller's wait). */
  SPL_RETRY_TIMEOUTS: Type.Boolean({ default: false }),
  /** Retry budget per upstream: retries at most this percentage of its requests over the window. */
  SPL_RETRY_BUDGET_PERCENT: Type.Number({ minimum: 0, maximum: 100, default: 20 }),
  /** … plus this many retries per second of the window, whatever the traffic. */
  SPL_RETRY_BUDGET_MIN_PER_SECOND: Type.Number({ minimum: 0, default: 5 }),
  /** The retry budget's sliding window, seconds. */
  SPL_RETRY_BUDGET_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 300, default: 10 }),
  /** Active health checks: probe every upstream origin this often, seconds; 0 disables. */
  SPL_HEALTH_CHECK_SECONDS: Type.Number({ minimum: 0, default: 0 }),
  /** A probe with no answer within this many milliseconds counts as dead. */
  SPL_HEALTH_CHECK_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 2000 }),
  /** SPL_HEADERS_TIMEOUT_MS, SPL_REQUEST_TIMEOUT_MS: how long a client may take to send a request. */
  ...ServerTimeoutSettings,
  /** After a hub token with an unknown `kid` refreshed the snapshot, no other refresh for this long, seconds. */
  SPL_HUB_KEY_REFRESH_SECONDS: Type.Integer({ minimum: 1, default: 30 }),
});

export type GatewayEnv = Static<typeof GatewayConfigSchema>;

export interface GatewayConfig extends GatewayEnv {
  /** SPL_PUBLIC_URL, or the gateway's own address: the issuer tokens must name. */
  publicUrl: string;
  /** SPL_REGISTRY_URL without a trailing slash. */
  registryUrl: string;
}

export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
}

export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const parsed = loadConfig(GatewayConfigSchema, env);
  if (!parsed.SPL_SNAPSHOT_FILE && (!parsed.SPL_GATEWAY_CLIENT_ID || !parsed.SPL_GATEWAY_CLIENT_SECRET))
    throw new GatewayConfigError(
      'invalid configuration: SPL_GATEWAY_CLIENT_ID and SPL_GATEWAY_CLIENT_SECRET are required (a registry data-plane client) unless SPL_SNAPSHOT_FILE is given',
    );
  checkTlsVariables(parsed);
  const scheme = parsed.SPL_TLS_CERT_FILE ? 'https' : 'http';
  const publicUrl = parsed.SPL_PUBLIC_URL ?? `${scheme}://${parsed.SPL_HOST}:${parsed.SPL_GATEWAY_PORT}`;
  return Object.freeze({ ...parsed, publicUrl, registryUrl: parsed.SPL_REGISTRY_URL.replace(/\/+$/, '') });
}

/** The TLS variables that only make sense together; the files themselves are read by tls/server-tls.ts. */
function checkTlsVariables(env: GatewayEnv): void {
  if (env.SPL_TLS_CERT_FILE && !env.SPL_TLS_KEY_FILE)
    throw new ConfigError('SPL_TLS_KEY_FILE', 'is required when SPL_TLS_CERT_FILE is set');
  if (env.SPL_TLS_KEY_FILE && !env.SPL_TLS_CERT_FILE)
    throw new ConfigError('SPL_TLS_CERT_FILE', 'is required when SPL_TLS_KEY_FILE is set');
  if (env.SPL_TLS_CLIENT_AUTH !== 'none') {
    if (!env.SPL_TLS_CERT_FILE)
      throw new ConfigError(
        'SPL_TLS_CERT_FILE',
        `is required when SPL_TLS_CLIENT_AUTH is ${env.SPL_TLS_CLIENT_AUTH} (client certificates need TLS)`,
      );
    if (!env.SPL_TLS_CA_FILE)
      throw new ConfigError(
        'SPL_TLS_CA_FILE',
        `is required when SPL_TLS_CLIENT_AUTH is ${env.SPL_TLS_CLIENT_AUTH} (the CA client certificates must chain to)`,
      );
  } else if (env.SPL_TLS_CA_FILE)
    // Ignoring it would let an operator believe client certificates are checked.
    throw new ConfigError(
      'SPL_TLS_CA_FILE',
      'is set but SPL_TLS_CLIENT_AUTH is none: set SPL_TLS_CLIENT_AUTH to optional or required, or unset SPL_TLS_CA_FILE',
    );
}

/** `SPL_MODE=production` refuses insecure defaults; each message names the variable. */
export function productionProblems(config: GatewayConfig): string[] {
  if (config.SPL_MODE !== 'production') return [];
  const problems: string[] = [];
  if (!config.SPL_MASTER_KEY)
    problems.push('SPL_MASTER_KEY is required in production (upstream credentials are sealed with it)');
  if (!config.SPL_PUBLIC_URL?.startsWith('https://'))
    problems.push('SPL_PUBLIC_URL must be an https:// URL in production (BKS 60(3)(a))');
  if (!config.SPL_BEHIND_TLS_PROXY && !config.SPL_TLS_CERT_FILE)
    problems.push(
      'the gateway serves plain HTTP: set SPL_TLS_CERT_FILE and SPL_TLS_KEY_FILE to terminate TLS here, or SPL_BEHIND_TLS_PROXY=true when a TLS-terminating proxy sits in front (BKS 60(3)(a))',
    );
  return problems;
}
