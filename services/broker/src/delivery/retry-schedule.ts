/**
 * When a failed delivery is tried again (docs/broker.md "Retry schedule"): retry n (1-based)
 * waits base × 4^(n−1), capped at `maxMs`, less up to half of it at random ("equal jitter",
 * so that receivers coming back are not hit by every broker at the same instant). A
 * receiver's `Retry-After` replaces the computed delay, capped at `maxMs` too.
 *
 * With the defaults (10 s, 8 retries, 1 h cap): ≈10 s, 40 s, 2.7 min, 11 min, 43 min, 1 h,
 * 1 h, 1 h — about 4 h from the first failure to the dead-letter queue.
 */
export interface RetrySchedule {
  readonly attempts: number;
  delayMs(retry: number, retryAfterMs?: number | null): number;
}

export function createRetrySchedule(input: {
  attempts: number;
  baseMs: number;
  maxMs: number;
  random?: () => number;
}): RetrySchedule {
  const random = input.random ?? Math.random;
  return {
    attempts: input.attempts,
    delayMs(retry, retryAfterMs) {
      if (retryAfterMs !== undefined && retryAfterMs !== null && retryAfterMs >= 0)
        return Math.min(retryAfterMs, input.maxMs);
      const full = Math.min(input.baseMs * 4 ** Math.max(retry - 1, 0), input.maxMs);
      return Math.round(full / 2 + (random() * full) / 2);
    },
  };
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(at - now, 0);
}
