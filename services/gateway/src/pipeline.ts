import type { IncomingHttpHeaders } from 'node:http';
import type { Snapshot, SnapshotRoute } from '@spl/snapshot';
import type { Caller, InvalidTokenReason, IssuerTokenVerifier } from './auth/caller.js';
import type { CompiledRoute } from './routing/route-table.js';
import type { CircuitState } from './upstream/circuit-breaker.js';

/**
 * The seams of the request path. Checks run in the contract's order (ARCHITECTURE
 * "Gateway routes"): 401 → 404 → 405 → 403 → 429 → 413 → 400 → forward. The 429 and 400
 * steps are pluggable: `buildApp` takes a `rateLimiter` and a `requestValidator`, and when
 * one is absent its step is skipped (every request passes it).
 */

/** What the rate-limit step sees: the route and caller are already resolved and authorised. */
export interface RateLimitInput {
  route: CompiledRoute;
  caller: Caller;
  /** The client address as Fastify sees it (`request.ip`). */
  ip: string;
}

export type RateLimitDecision =
  | {
      allowed: true;
      /** `RateLimit-*` headers (draft-ietf-httpapi-ratelimit-headers) to add to the answer. */
      headers?: Record<string, string>;
    }
  | {
      allowed: false;
      /** Seconds for Retry-After. */
      retryAfterSeconds: number;
      headers?: Record<string, string>;
      /** `rate` (429) or `unavailable` (Redis down and configured to fail closed: 503). */
      reason?: 'rate' | 'unavailable';
      detail?: string;
    };

/**
 * Step 429 (issue 3 §6). May answer synchronously — a lease already in hand — so the
 * common case costs no async hop; return a promise only when it must go to Redis.
 */
export interface RateLimiter {
  check(input: RateLimitInput): RateLimitDecision | Promise<RateLimitDecision>;
}

/** What the validation step sees; the body is the raw bytes the gateway will forward. */
export interface ValidationInput {
  method: string;
  /** The path below the version, as sent (percent-encoded), `''` or starting with `/`. */
  rest: string;
  /** The raw query string without `?`. */
  query: string;
  headers: IncomingHttpHeaders;
  /** Undefined when the request has no body. */
  body: Buffer | undefined;
}

export interface ValidationFailure {
  /** Pointers and messages only, never the offending value (docs/errors.md). */
  errors: Array<{ pointer: string; message: string }>;
}

/**
 * Step 400 (issue 3 §7). `compileDocument` runs when a snapshot's route table is built,
 * once per OpenAPI document (by `openapiHash`), and its result is reused while the hash is
 * unchanged; `validate` then runs per request against that compiled value, synchronously.
 */
export interface RequestValidator<Compiled = unknown> {
  compileDocument(document: Record<string, unknown>, route: SnapshotRoute): Compiled;
  /** null when the request is valid. */
  validate(compiled: Compiled, input: ValidationInput): ValidationFailure | null;
}

/** Builds the federated issuers' verifier for a snapshot (@spl/token federation/), or null when it lists none. */
export type FederatedVerifierFactory = (snapshot: Snapshot) => IssuerTokenVerifier | null;

/**
 * Events for metrics and logs that are not one request's answer (those are seen in
 * Fastify's `onResponse` hook with `request.gateway`). Every member is optional and
 * called synchronously; keep them cheap.
 */
export interface GatewayObserver {
  /** A token was refused (401), by reason. */
  onAuthRejected?(reason: InvalidTokenReason): void;
  /** A snapshot was compiled and is about to be swapped in (prepare per-route observability here). */
  onSnapshotCompiled?(snapshot: Snapshot): void;
  /** A new route table was swapped in. */
  onSnapshotApplied?(info: {
    version: number;
    etag: string;
    source: 'registry' | 'disk' | 'file';
    routes: number;
    reusedRoutes: number;
    compileMs: number;
  }): void;
  /** An upstream origin's circuit changed state. */
  onCircuitChange?(origin: string, state: CircuitState): void;
  /** An upstream call finished (headers received, or failed), milliseconds since dispatch. */
  onUpstreamResponse?(
    route: CompiledRoute,
    info: { status: number | null; ms: number; error?: string },
  ): void;
  /** A call that failed on `origin` was retried (upstream/forward.ts); `outcome` is the retry's. */
  onUpstreamRetry?(origin: string, outcome: 'success' | 'failure'): void;
  /** A retryable failure on `origin` was not retried: its retry budget is spent. */
  onRetryBudgetExhausted?(origin: string): void;
  /** The active health check found an upstream origin down (false) or back (true). */
  onUpstreamHealthChange?(origin: string, isUp: boolean): void;
}

/** What the request path knows about a request, on `request.gateway` (null outside proxied routes). */
export interface GatewayRequestContext {
  route: CompiledRoute | null;
  caller: Caller | null;
  rest: string;
  query: string;
  /** Upstream status, when the upstream answered. */
  upstreamStatus: number | null;
  /** Time from dispatch to upstream response headers, milliseconds. */
  upstreamMs: number | null;
  /** SHA-256 of a streamed (unbuffered) answer, set when its last byte has been read. */
  streamedResponseDigest?: string;
}
