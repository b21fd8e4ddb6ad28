/**
 * A global per-client-IP guard against floods (BKS 60(3)(c), 59(13)): a token bucket per IP in
 * this process's memory, checked before authentication so a flood costs no signature check and
 * no Redis. Local on purpose: it protects this instance, and needs no coordination to do so.
 *
 * The map is bounded: past `maxClients` the least recently seen IP is forgotten (a Map keeps
 * insertion order; a hit moves its entry to the end). A forgotten IP starts again with a full
 * bucket, so the bound must be well above the clients one instance sees in a few seconds.
 */
export interface FloodGuardOptions {
  /** Sustained requests per second per client IP. */
  perSecond: number;
  /** Requests a client IP may send at once (bucket capacity). */
  burst: number;
  /** Client IPs remembered at most. Default 100,000 (≈ 10 MB). */
  maxClients?: number;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
}

export interface FloodGuard {
  /** Takes one token for `ip`; false when the IP is over its rate (answer 429). */
  take(ip: string): boolean;
  /** Whole seconds until `ip` has a token again (for `Retry-After`), at least 1. */
  retryAfterSeconds(ip: string): number;
  /** IPs currently remembered. */
  readonly size: number;
}

export class FloodGuardOptionsError extends Error {
  override name = 'FloodGuardOptionsError';
}

interface Bucket {
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
}

export function createFloodGuard(options: FloodGuardOptions): FloodGuard {
  const { perSecond, burst } = options;
  const maxClients = options.maxClients ?? 100_000;
  const clock = options.clock ?? Date.now;
  if (!(perSecond > 0)) throw new FloodGuardOptionsError(`perSecond must be > 0, got ${perSecond}`);
  if (!(burst >= 1)) throw new FloodGuardOptionsError(`burst must be ≥ 1, got ${burst}`);
  if (!Number.isInteger(maxClients) || maxClients < 1)
    throw new FloodGuardOptionsError(`maxClients must be a positive integer, got ${maxClients}`);
  const perMs = perSecond / 1000;
  const buckets = new Map<string, Bucket>();

  return {
    take(ip) {
      const now = clock();
      let bucket = buckets.get(ip);
      if (bucket === undefined) {
        if (buckets.size >= maxClients) {
          // Reuse the least recently seen entry's object: no allocation once the map is full.
          const oldest = buckets.keys().next().value as string;
          bucket = buckets.get(oldest)!;
          buckets.delete(oldest);
          bucket.tokens = burst;
          bucket.at = now;
        } else {
          bucket = { tokens: burst, at: now };
        }
      } else {
        buckets.delete(ip);
        bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
        bucket.at = now;
      }
      buckets.set(ip, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    retryAfterSeconds(ip) {
      const bucket = buckets.get(ip);
      if (bucket === undefined || bucket.tokens >= 1) return 1;
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    },
    get size() {
      return buckets.size;
    },
  };
}
