import { loadConfig, ServerTimeoutSettings } from '@spl/env-config';
import { type Static, Type } from 'typebox';

export const ROLE_NAMES = ['operator', 'publisher', 'reviewer', 'consumer', 'auditor', 'dataplane'] as const;
/** Roles a person can hold; `dataplane` belongs to the gateway's and broker's clients. */
export const PERSON_ROLES = ['operator', 'publisher', 'reviewer', 'consumer', 'auditor'] as const;

/** The registry's environment: every variable, its unit and default, in one place. */
export const RegistryConfigSchema = Type.Object({
  SPL_MODE: Type.Union([Type.Literal('development'), Type.Literal('production')], { default: 'development' }),
  SPL_HOST: Type.String({ default: '127.0.0.1' }),
  SPL_REGISTRY_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
  /** The hub's one public base URL and token issuer; defaults to the registry's own address. */
  SPL_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$' })),
  SPL_TOKEN_AUDIENCE: Type.String({ minLength: 1, default: 'spl' }),
  /** Access token lifetime, seconds. */
  SPL_TOKEN_LIFETIME_SECONDS: Type.Integer({ minimum: 30, maximum: 3600, default: 300 }),
  /** A signing key older than this is rotated at start-up, days. */
  SPL_KEY_ROTATION_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  /** Prefix of every Redis key and channel this hub uses. */
  SPL_REDIS_PREFIX: Type.String({ pattern: '^[a-zA-Z0-9_-]+$', default: 'spl' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  /**
   * A statement PostgreSQL has not answered within this fails the request with 503 and its
   * connection is dropped, milliseconds: a server that hangs (stopped process, network
   * partition, disk stall) must not hold requests for ever. Every statement the registry
   * sends is short (lists are paged, the audit chain is verified in pages).
   */
  SPL_DATABASE_QUERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
  /** A new connection PostgreSQL has not accepted and greeted within this fails the request with 503, milliseconds. */
  SPL_DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
  SPL_DATA_DIR: Type.String({ default: '.spl/data' }),
  /** 32 bytes, base64 or hex. Required in production. */
  SPL_MASTER_KEY: Type.Optional(Type.String({ minLength: 43 })),
  SPL_BOOTSTRAP_CLIENT_ID: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9._-]{3,64}$' })),
  SPL_BOOTSTRAP_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 24 })),
  /** Role whose members grant kelaikan operasi (BKT/BKS/BBU/MUE differ, DIGEST §8.1). */
  SPL_APPROVER_KELAIKAN_OPERASI: Type.Enum(PERSON_ROLES, { default: 'operator' }),
  /** Role whose members grant kelaikan keamanan. */
  SPL_APPROVER_KELAIKAN_KEAMANAN: Type.Enum(PERSON_ROLES, { default: 'reviewer' }),
  /** Failed client authentications (per client id, per window) before answers are slowed. */
  SPL_AUTH_SLOWDOWN_AFTER: Type.Integer({ minimum: 1, default: 3 }),
  /** Failed client authentications before the client id is locked out. */
  SPL_AUTH_LOCKOUT_AFTER: Type.Integer({ minimum: 1, default: 10 }),
  /** Lockout duration and counting window, seconds. */
  SPL_AUTH_LOCKOUT_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  /**
   * Maximum age of a person's or an application's client secret, days (BKS 59(4)): a secret
   * stops working this long after it was issued; rotation issues a fresh one. 0: never.
   */
  SPL_SECRET_MAX_AGE_DAYS: Type.Integer({ minimum: 0, maximum: 3650, default: 90 }),
  /** The broker's public base URL, named in the AsyncAPI catalog; default SPL_HOST with port 8082. */
  SPL_BROKER_URL: Type.Optional(Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$' })),
  /**
   * The data planes' outbound allow-list (ARCHITECTURE "Outbound calls"), when the registry is
   * told it: a push subscription's webhook host must be listed (a name, an IP or CIDR, or `*`).
   * Unset: only the URL's form is checked; the broker checks again when connecting. The
   * SLA probes read it too (unset: public addresses only, and loopback in development).
   */
  SPL_EGRESS_ALLOW: Type.Optional(Type.String()),
  /** Largest accepted OpenAPI document, bytes. */
  SPL_OPENAPI_MAX_BYTES: Type.Integer({ minimum: 1024, default: 2 * 1024 * 1024 }),
  /** Between two probe rounds of every published API version (sla/prober.ts), seconds; 0 turns probing off. */
  SPL_PROBE_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
  /** A probe not answered within this counts as down, milliseconds. */
  SPL_PROBE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000 }),
  /**
   * Lifetime of the probe lease in Redis, seconds: the one instance holding it probes, and
   * when it dies another takes over within this time.
   */
  SPL_PROBE_LEASE_SECONDS: Type.Integer({ minimum: 1, maximum: 600, default: 15 }),
  /** SPL_HEADERS_TIMEOUT_MS, SPL_REQUEST_TIMEOUT_MS: how long a client may take to send a request. */
  ...ServerTimeoutSettings,
  SPL_LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
});

export type RegistryEnv = Static<typeof RegistryConfigSchema>;

export interface RegistryConfig extends RegistryEnv {
  /** SPL_PUBLIC_URL, or the registry's own address. */
  publicUrl: string;
}

export function loadRegistryConfig(env: Record<string, string | undefined>): RegistryConfig {
  const parsed = loadConfig(RegistryConfigSchema, env);
  const publicUrl = parsed.SPL_PUBLIC_URL ?? `http://${parsed.SPL_HOST}:${parsed.SPL_REGISTRY_PORT}`;
  return Object.freeze({ ...parsed, publicUrl });
}

/** `SPL_MODE=production` refuses insecure defaults; the message names the variable. */
export function productionProblems(config: RegistryConfig): string[] {
  if (config.SPL_MODE !== 'production') return [];
  const problems: string[] = [];
  if (!config.SPL_MASTER_KEY)
    problems.push('SPL_MASTER_KEY is required in production (secrets at rest are sealed with it)');
  if (!config.SPL_PUBLIC_URL?.startsWith('https://'))
    problems.push('SPL_PUBLIC_URL must be an https:// URL in production (BKS 60(3)(a))');
  if (!config.DATABASE_URL)
    problems.push('DATABASE_URL is required in production (the embedded store is single-instance)');
  // The manifests' and docs' placeholders must never reach a real hub.
  for (const name of ['SPL_MASTER_KEY', 'SPL_BOOTSTRAP_CLIENT_SECRET', 'DATABASE_URL'] as const)
    if (isPlaceholder(config[name]))
      problems.push(
        `${name} still holds a placeholder (REPLACE-ME / change-me): set a real value in production`,
      );
  return problems;
}

/** A value copied unchanged from deploy/k8s or the docs (`REPLACE-ME…`, `change-me…`, `example…`). */
export function isPlaceholder(value: string | undefined): boolean {
  return value !== undefined && /replace-?me|change-?me|^example|your-secret/i.test(value);
}
