/**
 * A retry budget per upstream, after Finagle's `RetryBudget` and Envoy's `retry_budget`:
 * over a sliding window, retries may be at most `ratio` of the first attempts plus a small
 * reserve (`minPerSecond × window`), so when an upstream is down the gateway sends it at
 * most `1 + ratio` times the load it was sent anyway, never twice or more.
 *
 *   window = buckets of one second, a ring indexed by (now in seconds) mod size:
 *
 *     [ s-9 | s-8 | … | s-1 | s ]      requests[i] first attempts, retries[i] retries
 *        ▲ cleared when the ring comes round to it again
 *
 * `deposit` runs once per forwarded request: an integer division, a compare and two adds,
 * no allocation. The sums are taken only when a retry is asked for (the rare path).
 */
export interface RetryBudget {
  /** A first attempt was sent to this upstream. */
  deposit(nowMs: number): void;
  /** Takes one retry from the budget; false when it is exhausted (nothing is taken then). */
  tryWithdraw(nowMs: number): boolean;
}

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt in the window, 0–1 (0.2 = 20 %). */
  ratio: number;
  /** Retries allowed per second of the window whatever the traffic (a low-traffic upstream can still retry). */
  minPerSecond: number;
  /** Length of the sliding window, seconds (one bucket per second). */
  windowSeconds: number;
}

export class RetryBudgetOptionsError extends Error {
  override name = 'RetryBudgetOptionsError';
}

export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const { ratio, minPerSecond, windowSeconds } = options;
  if (!(ratio >= 0 && ratio <= 1)) throw new RetryBudgetOptionsError(`ratio must be 0–1, got ${ratio}`);
  if (!(minPerSecond >= 0))
    throw new RetryBudgetOptionsError(`minPerSecond must be ≥ 0, got ${minPerSecond}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
    throw new RetryBudgetOptionsError(`windowSeconds must be an integer ≥ 1, got ${windowSeconds}`);
  const requests = new Float64Array(windowSeconds);
  const retries = new Float64Array(windowSeconds);
  const reserve = minPerSecond * windowSeconds;
  /** The second the bucket at each index was last cleared for. */
  const stamps = new Float64Array(windowSeconds).fill(-1);

  const bucket = (nowMs: number): number => {
    const second = Math.floor(nowMs / 1000);
    const i = second % windowSeconds;
    if (stamps[i] !== second) {
      stamps[i] = second;
      requests[i] = 0;
      retries[i] = 0;
    }
    return i;
  };

  return {
    deposit(nowMs) {
      requests[bucket(nowMs)]!++;
    },
    tryWithdraw(nowMs) {
      const current = bucket(nowMs);
      const oldest = Math.floor(nowMs / 1000) - windowSeconds + 1;
      let sent = 0;
      let retried = 0;
      for (let i = 0; i < windowSeconds; i++) {
        if (stamps[i]! < oldest) continue; // a bucket of an earlier round, not in this window
        sent += requests[i]!;
        retried += retries[i]!;
      }
      if (retried + 1 > reserve + ratio * sent) return false;
      retries[current]!++;
      return true;
    },
  };
}
