/**
 * What resilience adds to every forwarded request (issue 3 §8): one retry-budget `deposit`
 * (the only per-request cost of retries) and a pick among a route's URLs that also skips
 * upstreams the active health check found down. Retries themselves and probes are off the
 * request path.
 *
 *   pnpm exec tsx bench/gateway-resilience.ts
 *
 * Prints ns per call (wall clock; CPU-bound, single-threaded).
 */
import { performance } from 'node:perf_hooks';
import { createCircuitBreaker } from '../services/gateway/src/upstream/circuit-breaker.js';
import { createRetryBudget } from '../services/gateway/src/upstream/retry-budget.js';

const N = 5_000_000;

function measure(name: string, run: (i: number) => void): void {
  for (let i = 0; i < 100_000; i++) run(i); // warm-up
  const started = performance.now();
  for (let i = 0; i < N; i++) run(i);
  const ns = ((performance.now() - started) * 1e6) / N;
  process.stdout.write(`${name.padEnd(48)} ${ns.toFixed(1)} ns/call\n`);
}

const budget = createRetryBudget({ ratio: 0.2, minPerSecond: 5, windowSeconds: 10 });
const start = Date.now();
// About 1000 requests a second of simulated time, so buckets roll over as in production.
measure('retryBudget.deposit', (i) => budget.deposit(start + i));

const targets = [0, 1, 2].map((i) => ({
  upstream: { isDown: i === 1, circuit: createCircuitBreaker({ failureThreshold: 5, openMs: 30_000 }) },
}));
const cursor = { next: 0 };
let picked = 0;
measure('pick of 3 URLs, one down (as in forward.ts)', () => {
  const n = targets.length;
  for (let i = 0; i < n; i++) {
    const target = targets[cursor.next++ % n]!;
    if (target.upstream.isDown) continue;
    if (target.upstream.circuit.tryAcquire(start) === 0) {
      picked++;
      return;
    }
  }
});
if (picked === 0) throw new Error('nothing picked');
