import type { Redis } from 'ioredis';
import { LEASE_SCRIPT, LEASE_SCRIPT_SHA } from './lease-script.js';
import { createRateLimitKeys } from './redis-keys.js';

/**
 * The cluster-wide rate limit per (application, API version), from the version's plan
 * (issue 3, point 6), shared by every gateway instance through Redis without a Redis round trip
 * per request.
 *
 * Each instance leases up to `leaseSize` units at a time from fixed-window counters in Redis
 * (one EVALSHA, `lease-script.ts`) and serves requests from its local lease synchronously. When
 * the lease is spent, one refill per key is in flight; requests arriving meanwhile wait on it.
 * A refused window (or burst second) is remembered locally, so refused requests cost no round
 * trip either.
 *
 * Accuracy (the bound the docs state, asserted by the two-instance test):
 *   - Within one window, as Redis counts it, accepted ≤ limit: a unit is counted when leased,
 *     before it is served, and a lease is dropped when its window ends.
 *   - Instances place windows by their own clocks, so around a window boundary a lease taken
 *     from one window can still be spent in the next by an instance whose clock lags. Hence,
 *     over any window of real time: accepted ≤ limit + instances × leaseSize.
 *   - The other way, units leased to an instance that then gets no more traffic are lost for
 *     that window: accepted ≥ limit − instances × leaseSize when demand exceeds the limit.
 *   - `burst` is enforced the same way on 1 s windows over units leased, so units served in a
 *     second ≤ burst + instances × leaseSize.
 * A lease is never larger than a tenth of the limit (or of the burst), so a small limit is not
 * taken whole by one instance.
 *
 * Redis unreachable: after one failed or slow refill (`redisTimeoutMs`) the limiter opens a
 * circuit for `circuitBreakMs` and answers every request from memory per `failMode`: `open`
 * accepts (marked `degraded`), `closed` refuses with `retryAfterSeconds` (the gateway answers
 * 503, not 429). A client that is known down (ioredis status `reconnecting`, `close`, `end`)
 * is not even tried. Give the limiter a client created with `enableOfflineQueue: false`, so a
 * command against a dead connection fails at once instead of queueing.
 */
export interface RateLimiterOptions {
  redis: Redis;
  /** Hub key prefix, e.g. `spl`. */
  prefix: string;
  /** Units taken from Redis per round trip, at most. Default 20. */
  leaseSize?: number;
  /** What to answer when Redis cannot be reached. */
  failMode: 'open' | 'closed';
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** A refill slower than this counts as a failure, ms. Default 200. */
  redisTimeoutMs?: number;
  /** How long to stop trying Redis after a failure, ms. Default 1000. */
  circuitBreakMs?: number;
}

export interface RatePlan {
  requestsPerMinute: number;
  burst?: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Units per window (plan.requestsPerMinute). */
  limit: number;
  /** Units left in this window cluster-wide, as this instance last saw it (an estimate). */
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
  /** Set when refused. */
  retryAfterSeconds?: number;
  /** Set when Redis could not be asked and `failMode` decided. */
  degraded?: 'redis-unavailable';
}

export interface RateLimiter {
  /**
   * Takes one unit of `key`'s limit. Synchronous while the local lease lasts (the hot path);
   * a Promise only while a refill is in flight. Callers: `const d = limiter.take(k, plan);
   * const decision = d instanceof Promise ? await d : d;` — no await, no microtask, when warm.
   * `key` names the (application, API version); build it once per route and application.
   */
  take(key: string, plan: RatePlan): RateDecision | Promise<RateDecision>;
  /** Drops the local leases and stops the sweep timer; the Redis client is the caller's. Idempotent. */
  close(): void;
}

export class RateLimiterOptionsError extends Error {
  override name = 'RateLimiterOptionsError';
}

const WINDOW_MS = 60_000;
const BURST_WINDOW_MS = 1000;
/** A lease is at most this fraction of the limit (and of the burst). */
const LEASE_SHARE = 10;
const DOWN_STATUSES = new Set(['reconnecting', 'close', 'end']);

interface LeaseState {
  /** Minute window (`floor(now / 60 s)`) the lease belongs to. */
  window: number;
  /** Units leased to this instance and not yet served. */
  units: number;
  /** Units no instance has leased yet in this window, at the last refill. */
  unleased: number;
  /** Refuse from memory until this epoch ms (window or burst second exhausted). */
  refusedUntil: number;
  refill: Promise<void> | null;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, prefix, failMode } = options;
  const leaseSize = options.leaseSize ?? 20;
  const clock = options.clock ?? Date.now;
  const redisTimeoutMs = options.redisTimeoutMs ?? 200;
  const circuitBreakMs = options.circuitBreakMs ?? 1000;
  if (!Number.isInteger(leaseSize) || leaseSize < 1)
    throw new RateLimiterOptionsError(`leaseSize must be a positive integer, got ${leaseSize}`);
  if (failMode !== 'open' && failMode !== 'closed')
    throw new RateLimiterOptionsError(`failMode must be 'open' or 'closed', got ${String(failMode)}`);
  if (!prefix) throw new RateLimiterOptionsError('prefix is required');

  const keys = createRateLimitKeys(prefix);
  const states = new Map<string, LeaseState>();
  let circuitOpenUntil = 0;
  let isProbing = false;
  let isClosed = false;

  // Leases of past windows are worthless; drop them once a window so the map tracks live keys only.
  const sweep = setInterval(() => {
    const window = Math.floor(clock() / WINDOW_MS);
    for (const [key, state] of states) if (state.window < window && state.refill === null) states.delete(key);
  }, WINDOW_MS);
  sweep.unref();

  function resetSecondsAt(now: number, window: number): number {
    return Math.max(0, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
  }

  function degraded(state: LeaseState, plan: RatePlan, now: number): RateDecision {
    const resetSeconds = resetSecondsAt(now, state.window);
    if (failMode === 'open')
      return {
        allowed: true,
        limit: plan.requestsPerMinute,
        remaining: state.unleased,
        resetSeconds,
        degraded: 'redis-unavailable',
      };
    return {
      allowed: false,
      limit: plan.requestsPerMinute,
      remaining: 0,
      resetSeconds,
      retryAfterSeconds: Math.max(1, Math.ceil((circuitOpenUntil - now) / 1000)),
      degraded: 'redis-unavailable',
    };
  }

  function openCircuit(): void {
    circuitOpenUntil = clock() + circuitBreakMs;
  }

  async function callScript(key: string, plan: RatePlan, now: number, window: number): Promise<number[]> {
    const burst = plan.burst ?? 0;
    const cap = Math.floor(Math.min(plan.requestsPerMinute, burst > 0 ? burst : Infinity) / LEASE_SHARE);
    const wanted = Math.max(1, Math.min(leaseSize, cap));
    const args = [
      keys.minuteWindow(key, window),
      keys.burstWindow(key, Math.floor(now / BURST_WINDOW_MS)),
      plan.requestsPerMinute,
      wanted,
      (window + 1) * WINDOW_MS - now + 1000,
      burst,
    ] as const;
    try {
      return (await redis.evalsha(LEASE_SCRIPT_SHA, 2, ...args)) as number[];
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await redis.eval(LEASE_SCRIPT, 2, ...args)) as number[];
    }
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis lease refill over ${redisTimeoutMs} ms`)),
        redisTimeoutMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  async function refill(key: string, state: LeaseState, plan: RatePlan, now: number): Promise<void> {
    const window = state.window;
    try {
      // A lease that arrives after its timeout is lost: counted in Redis, never served (errs towards refusing).
      const [granted = 0, minuteUsed = 0, burstCapped = 0] = await withTimeout(
        callScript(key, plan, now, window),
      );
      circuitOpenUntil = 0;
      if (state.window !== window) return; // the window ended meanwhile; the lease is void
      state.units += granted;
      state.unleased = Math.max(0, plan.requestsPerMinute - minuteUsed);
      if (granted === 0)
        state.refusedUntil =
          burstCapped === 1 && state.unleased > 0
            ? (Math.floor(now / BURST_WINDOW_MS) + 1) * BURST_WINDOW_MS
            : (window + 1) * WINDOW_MS;
    } catch {
      openCircuit();
    } finally {
      state.refill = null;
    }
  }

  function take(key: string, plan: RatePlan): RateDecision | Promise<RateDecision> {
    const now = clock();
    const window = Math.floor(now / WINDOW_MS);
    let state = states.get(key);
    if (state === undefined) {
      state = { window, units: 0, unleased: plan.requestsPerMinute, refusedUntil: 0, refill: null };
      if (!isClosed) states.set(key, state);
    } else if (state.window !== window) {
      state.window = window;
      state.units = 0;
      state.unleased = plan.requestsPerMinute;
      state.refusedUntil = 0;
    }

    if (state.units > 0) {
      state.units--;
      return {
        allowed: true,
        limit: plan.requestsPerMinute,
        remaining: state.unleased + state.units,
        resetSeconds: resetSecondsAt(now, window),
      };
    }
    if (now < state.refusedUntil)
      return {
        allowed: false,
        limit: plan.requestsPerMinute,
        remaining: 0,
        resetSeconds: resetSecondsAt(now, window),
        retryAfterSeconds: Math.max(1, Math.ceil((state.refusedUntil - now) / 1000)),
      };

    if (state.refill === null) {
      if (now < circuitOpenUntil || DOWN_STATUSES.has(redis.status)) {
        if (now >= circuitOpenUntil) openCircuit();
        return degraded(state, plan, now);
      }
      // Half-open: after a failure, one refill probes Redis while the others answer from memory.
      if (circuitOpenUntil !== 0) {
        if (isProbing) return degraded(state, plan, now);
        isProbing = true;
        state.refill = refill(key, state, plan, now).finally(() => {
          isProbing = false;
        });
      } else {
        state.refill = refill(key, state, plan, now);
      }
    }
    return state.refill.then(() => take(key, plan));
  }

  return {
    take,
    close() {
      isClosed = true;
      clearInterval(sweep);
      states.clear();
    },
  };
}

/**
 * Response headers for a decision: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
 * (delta seconds) as in draft-ietf-httpapi-ratelimit-headers up to -06, which clients and
 * gateways widely read; and `Retry-After` (RFC 9110 §10.2.3, delta seconds) when refused.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
  };
  if (!decision.allowed && decision.retryAfterSeconds !== undefined)
    headers['Retry-After'] = String(decision.retryAfterSeconds);
  return headers;
}
