import { loadConfig, ServerTimeoutSettings } from '@spl/env-config';
import { type Static, Type } from 'typebox';

/**
 * The broker's environment: every variable, its unit and default, in one place (docs/broker.md
 * "Configuration"). The publish API (server.ts) and the delivery worker (worker.ts) read the
 * same schema, so one `.env` serves both processes.
 */
export const BrokerConfigSchema = Type.Object({
  SPL_MODE: Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }),
  SPL_HOST: Type.String({ default: '127.0.0.1' }),
  SPL_BROKER_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8082 }),
  /** The delivery worker's own /healthz and /metrics; 0 picks a free port, -1 serves none. */
  SPL_BROKER_WORKER_PORT: Type.Integer({ minimum: -1, maximum: 65535, default: 8083 }),
  SPL_REGISTRY_URL: Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$', default: 'http://127.0.0.1:8081' }),
  /** A registry data-plane client; required unless SPL_SNAPSHOT_FILE is set. */
  SPL_BROKER_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  SPL_BROKER_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  /** Start offline from this snapshot file (exactly as GET /v1/snapshot answers). */
  SPL_SNAPSHOT_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** Seconds between If-None-Match polls of the registry; 0 disables. */
  SPL_SNAPSHOT_POLL_SECONDS: Type.Integer({ minimum: 0, default: 30 }),
  /** The hub's public base URL: the issuer hub tokens must name. Default: the gateway's address. */
  SPL_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$' })),
  SPL_GATEWAY_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  SPL_TOKEN_AUDIENCE: Type.String({ minLength: 1, default: 'spl' }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  SPL_REDIS_PREFIX: Type.String({ pattern: '^[a-zA-Z0-9_-]+$', default: 'spl' }),
  /** The stored snapshots live in `<SPL_DATA_DIR>/broker/` and `<SPL_DATA_DIR>/broker-worker/`. */
  SPL_DATA_DIR: Type.String({ default: '.spl/data' }),
  /** 32 bytes, base64 or hex: opens the sealed webhook secrets. Development: `<SPL_DATA_DIR>/master.key`. */
  SPL_MASTER_KEY: Type.Optional(Type.String({ minLength: 43 })),
  /** Hosts, IPs and CIDRs webhook endpoints may be on (ARCHITECTURE "Outbound calls"). */
  SPL_EGRESS_ALLOW: Type.String({ default: '*' }),
  /** Events waiting for their first delivery attempt past which publishing answers 503. */
  SPL_BROKER_MAX_BACKLOG: Type.Integer({ minimum: 1, default: 50_000 }),
  /** Timeout of one webhook POST (connect to last body byte), milliseconds. */
  SPL_BROKER_DELIVERY_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 5_000 }),
  /** First-attempt jobs one worker process runs at once (each POSTs to every subscription). */
  SPL_BROKER_CONCURRENCY: Type.Integer({ minimum: 1, default: 50 }),
  /** Retry jobs one worker process runs at once per subscription. */
  SPL_BROKER_RETRY_CONCURRENCY: Type.Integer({ minimum: 1, default: 10 }),
  /** First-attempt POSTs in flight to one subscription per worker process; more go to its retry queue. */
  SPL_BROKER_SUBSCRIPTION_IN_FLIGHT: Type.Integer({ minimum: 1, default: 10 }),
  /** Keep-alive connections per webhook origin. */
  SPL_BROKER_CONNECTIONS: Type.Integer({ minimum: 1, default: 64 }),
  /** Retries after the first attempt before an event is dead-lettered. */
  SPL_BROKER_RETRY_ATTEMPTS: Type.Integer({ minimum: 1, default: 8 }),
  /** Delay before the first retry, milliseconds; each next one is ×4, with up to −50 % jitter. */
  SPL_BROKER_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  /** Longest delay between two retries (and the cap on a receiver's Retry-After), milliseconds. */
  SPL_BROKER_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 3_600_000 }),
  /** Consecutive failed POSTs that open a subscription's circuit. */
  SPL_BROKER_CIRCUIT_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  /** How long an open circuit sends new events straight to the retry queue, seconds. */
  SPL_BROKER_CIRCUIT_OPEN_SECONDS: Type.Integer({ minimum: 1, default: 30 }),
  /** A push subscription failing without a success for this long is suspended in the registry, seconds. */
  SPL_BROKER_SUSPEND_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 86_400 }),
  /** BullMQ lock of a running job: a killed worker's jobs run again after at most about twice this, ms. */
  SPL_BROKER_LOCK_MS: Type.Integer({ minimum: 1000, default: 5_000 }),
  /** Dead letters kept per subscription (the oldest are dropped beyond it). */
  SPL_BROKER_DEAD_LETTER_MAX: Type.Integer({ minimum: 1, default: 10_000 }),
  /** Unacknowledged events kept per pull subscription (the oldest are dropped beyond it). */
  SPL_BROKER_PULL_MAX: Type.Integer({ minimum: 1, default: 100_000 }),
  /** Completed first-attempt jobs kept for inspection. */
  SPL_BROKER_KEEP_COMPLETED: Type.Integer({ minimum: 0, default: 1000 }),
  SPL_EVIDENCE_CHECKPOINT_EVERY: Type.Integer({ minimum: 1, default: 1000 }),
  SPL_EVIDENCE_CHECKPOINT_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  SPL_BEHIND_TLS_PROXY: Type.Boolean({ default: false }),
  /** SPL_HEADERS_TIMEOUT_MS, SPL_REQUEST_TIMEOUT_MS: how long a client may take to send a request. */
  ...ServerTimeoutSettings,
  SPL_LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
});

export type BrokerEnv = Static<typeof BrokerConfigSchema>;

export interface BrokerConfig extends BrokerEnv {
  /** SPL_PUBLIC_URL, or the gateway's address: the issuer tokens must name. */
  publicUrl: string;
  registryUrl: string;
}

export class BrokerConfigError extends Error {
  override name = 'BrokerConfigError';
}

export function loadBrokerConfig(env: Record<string, string | undefined>): BrokerConfig {
  const parsed = loadConfig(BrokerConfigSchema, env);
  if (!parsed.SPL_SNAPSHOT_FILE && (!parsed.SPL_BROKER_CLIENT_ID || !parsed.SPL_BROKER_CLIENT_SECRET))
    throw new BrokerConfigError(
      'invalid configuration: SPL_BROKER_CLIENT_ID and SPL_BROKER_CLIENT_SECRET are required (a registry data-plane client) unless SPL_SNAPSHOT_FILE is given',
    );
  const publicUrl = parsed.SPL_PUBLIC_URL ?? `http://${parsed.SPL_HOST}:${parsed.SPL_GATEWAY_PORT}`;
  return Object.freeze({ ...parsed, publicUrl, registryUrl: parsed.SPL_REGISTRY_URL.replace(/\/+$/, '') });
}

/** `SPL_MODE=production` refuses insecure defaults; each message names the variable. */
export function productionProblems(config: BrokerConfig): string[] {
  if (config.SPL_MODE !== 'production') return [];
  const problems: string[] = [];
  if (!config.SPL_MASTER_KEY)
    problems.push('SPL_MASTER_KEY is required in production (webhook secrets are sealed with it)');
  if (!config.SPL_PUBLIC_URL?.startsWith('https://'))
    problems.push('SPL_PUBLIC_URL must be an https:// URL in production (BKS 60(3)(a))');
  if (!config.SPL_BEHIND_TLS_PROXY)
    problems.push(
      'the broker serves plain HTTP: set SPL_BEHIND_TLS_PROXY=true when a TLS-terminating proxy sits in front (BKS 60(3)(a))',
    );
  return problems;
}
