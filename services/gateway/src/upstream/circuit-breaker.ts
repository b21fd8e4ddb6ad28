/**
 * A circuit breaker per upstream origin:
 *
 *   closed ──(failureThreshold consecutive failures)──► open ──(openMs elapsed)──► half-open
 *     ▲                                                  ▲                            │
 *     └───────────────── probe succeeds ─────────────────┼──── probe fails ◄──────────┘
 *
 * While open every call is refused at once (503 with Retry-After); half-open lets exactly
 * one probe through and refuses the rest until it settles. Only transport failures count
 * (refused, reset, timed out): an upstream that answers, even with a 500, is up.
 *
 * An active health check (health-checker.ts) that reaches the upstream closes an open
 * circuit at once (`markHealthy`), without waiting for `openMs` and a request to probe with.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /** 0 when the call may go ahead; otherwise the seconds until the next probe (for Retry-After). */
  tryAcquire(now: number): number;
  onSuccess(): void;
  onFailure(now: number): void;
  /** The call acquired was not made or proved nothing about the upstream: free a probe slot. */
  release(): void;
  /** An active health check reached the upstream: an open circuit closes now. */
  markHealthy(): void;
  state(now: number): CircuitState;
}

export interface CircuitOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before a probe, milliseconds. */
  openMs: number;
  /** Called on each change of state (for metrics and logs). */
  onStateChange?: (state: CircuitState) => void;
}

export function createCircuitBreaker(options: CircuitOptions): CircuitBreaker {
  let failures = 0;
  let openUntil = 0;
  let isOpen = false;
  let isProbing = false;
  const change = (state: CircuitState) => options.onStateChange?.(state);

  return {
    tryAcquire(now) {
      if (!isOpen) return 0;
      if (now < openUntil) return Math.max(1, Math.ceil((openUntil - now) / 1000));
      if (isProbing) return 1;
      isProbing = true;
      change('half-open');
      return 0;
    },
    onSuccess() {
      failures = 0;
      if (isOpen) {
        isOpen = false;
        isProbing = false;
        change('closed');
      }
    },
    onFailure(now) {
      failures++;
      if (isProbing || (!isOpen && failures >= options.failureThreshold)) {
        isOpen = true;
        isProbing = false;
        openUntil = now + options.openMs;
        change('open');
      }
    },
    release() {
      isProbing = false;
    },
    markHealthy() {
      // A closed circuit keeps its count: real requests failing while probes pass still open it.
      if (!isOpen) return;
      failures = 0;
      isOpen = false;
      isProbing = false;
      change('closed');
    },
    state(now) {
      if (!isOpen) return 'closed';
      return now < openUntil ? 'open' : 'half-open';
    },
  };
}
