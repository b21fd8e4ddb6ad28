import type { RouteTable } from '../routing/route-table.js';
import type { Upstream } from './upstream-pools.js';

/**
 * Active health checks (issue 3 §8): every `intervalMs` each upstream of the route table in
 * use gets one `HEAD` probe, through its own pool, so through the egress allow-list (and
 * with its client certificate for mTLS upstreams). Any HTTP answer below 500 is alive, even
 * 401 or 404 (the probe carries no credentials); a 5xx, a refused or reset connection, or
 * no answer within `timeoutMs` is dead.
 *
 * A dead upstream is marked `isDown`: a route with several URLs skips it (forward.ts), a
 * route with one still tries it and its circuit decides. A live one closes its circuit if
 * open, sooner than the circuit's own timer would. One probe's result decides (no
 * thresholds): a wrong "down" costs a route with several URLs one interval of one URL.
 * Probes stop for upstreams no route of the new table names (`update`).
 */
export interface HealthChecker {
  /** Probes the upstreams of `table` from now on, those new to it at once; the others stop. */
  update(table: RouteTable): void;
  /** Probes every upstream once now; resolves when all have answered or timed out. */
  checkNow(): Promise<void>;
  close(): void;
}

export interface HealthCheckerOptions {
  /** Between two probes of one upstream, milliseconds. */
  intervalMs: number;
  /** A probe not answered within this is dead, milliseconds. */
  timeoutMs: number;
  /** An upstream went down (false) or came back (true). */
  onChange?: (upstream: Upstream, isUp: boolean) => void;
}

/** The path probed on an upstream: the route's `upstream.healthPath`, else the URL's own path. */
export function healthTargets(table: RouteTable): Map<Upstream, string> {
  const targets = new Map<Upstream, string>();
  for (const route of table.routes.values())
    for (const target of route.targets)
      if (!targets.has(target.upstream))
        targets.set(target.upstream, route.source.upstream.healthPath ?? (target.basePath || '/'));
  return targets;
}

export function createHealthChecker(options: HealthCheckerOptions): HealthChecker {
  let targets = new Map<Upstream, string>();
  const probing = new Set<Upstream>();
  let isClosed = false;

  async function probe(upstream: Upstream, path: string): Promise<void> {
    if (probing.has(upstream)) return;
    probing.add(upstream);
    let isUp = false;
    try {
      const res = await upstream.pool.request({
        method: 'HEAD',
        path,
        headers: { 'user-agent': 'spl-gateway-health-check' },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      res.body.resume();
      isUp = res.statusCode < 500;
    } catch {
      isUp = false;
    } finally {
      probing.delete(upstream);
    }
    // An upstream dropped while its probe ran keeps no verdict.
    if (isClosed || !targets.has(upstream)) return;
    if (isUp) upstream.circuit.markHealthy();
    if (upstream.isDown !== isUp) return;
    upstream.isDown = !isUp;
    options.onChange?.(upstream, isUp);
  }

  const checkNow = async () => {
    await Promise.all([...targets].map(([upstream, path]) => probe(upstream, path)));
  };

  const timer = setInterval(() => void checkNow(), options.intervalMs);
  timer.unref();

  return {
    update(table) {
      const next = healthTargets(table);
      for (const upstream of targets.keys()) if (!next.has(upstream)) upstream.isDown = false; // no longer probed: no stale verdict
      const previous = targets;
      targets = next;
      for (const [upstream, path] of next) if (!previous.has(upstream)) void probe(upstream, path);
    },
    checkNow,
    close() {
      isClosed = true;
      clearInterval(timer);
      targets = new Map();
    },
  };
}
