import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { CircuitState } from '../upstream/circuit-breaker.js';

/**
 * The gateway's Prometheus metrics (issue 3, point 9): which API, which consumer, which status,
 * how slow.
 *
 * Cardinality is bounded by the registry's content: routes are labelled by their template
 * (`org`, `api`, `version`), never the raw path; `application` is an application slug from the
 * snapshot (`unknown` for any other value, `anonymous` before authentication); `method` is one
 * of the HTTP methods (`OTHER` otherwise); `reason` is one of AUTH_REJECTION_REASONS.
 *
 * Hot path: `prepare()` builds one RouteMetrics per route when a snapshot arrives; the
 * per-request calls only do Map lookups and add to plain numbers. prom-client sees the counts
 * at scrape time: counters are flushed into it by their `collect()` hooks, and the two
 * histograms are small collectors of their own (prom-client's label children hash their label
 * values on every call, which is the cost this avoids).
 */

export const AUTH_REJECTION_REASONS = [
  'missing_token',
  'malformed_token',
  'bad_signature',
  'algorithm_not_allowed',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_audience',
  'unknown_key',
  'unknown_client',
  'no_subscription',
  'subscription_suspended',
  'client_certificate',
  'other',
] as const;
export type AuthRejectionReason = (typeof AUTH_REJECTION_REASONS)[number];

/** Seconds; from 1 ms (a cached answer) to 10 s (past any upstream timeout we expect). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const RETRY_OUTCOMES = ['success', 'failure'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];
/** Label values of `spl_gateway_upstream_circuit_state` (a state set: 1 for the current state). */
const CIRCUIT_STATES: readonly { state: CircuitState; label: string }[] = [
  { state: 'closed', label: 'closed' },
  { state: 'half-open', label: 'half_open' },
  { state: 'open', label: 'open' },
];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Label value of `org`, `api` and `version` for a request that matched no route. */
export const UNMATCHED_LABEL = '-';

/** What metrics need of a snapshot route (SnapshotRoute fits). */
export interface MetricsRoute {
  id: string;
  org: string;
  api: string;
  version: string;
  upstream?: { urls: readonly string[] };
}

export interface RouteMetrics {
  /**
   * One answered request. `application` is the calling application's slug, undefined before
   * authentication; durations in seconds; `upstreamSeconds` only when the upstream was called.
   */
  observeRequest(
    application: string | undefined,
    method: string,
    status: number,
    durationSeconds: number,
    upstreamSeconds?: number,
  ): void;
  rateLimited(application: string | undefined): void;
}

export interface GatewayMetrics {
  /**
   * Builds the per-route metrics for a snapshot's routes and application slugs, and drops the
   * series of routes that left it. Call on every snapshot swap, before routing with it.
   */
  prepare(routes: readonly MetricsRoute[], applications: readonly string[]): void;
  /** The prepared metrics of a route by its id; the unmatched route's when unknown. */
  route(routeId: string): RouteMetrics;
  /** For requests that matched no route (404 and the like). */
  readonly unmatched: RouteMetrics;
  requestStarted(): void;
  requestFinished(): void;
  authRejected(reason: AuthRejectionReason): void;
  /** A request refused by the per-address flood guard before anything else ran (BKS 59(6)(b)). */
  floodRefused(): void;
  /**
   * What the active health check found of an upstream (`upstream` is the URL's origin, as in
   * the snapshot). `spl_gateway_upstream_up` is 1 while it passes and its circuit is not open.
   */
  setUpstreamUp(upstream: string, isUp: boolean): void;
  /** The state an upstream's circuit breaker changed to. */
  setCircuitState(upstream: string, state: CircuitState): void;
  /** A call that failed on `upstream` was retried, and how the retry went. */
  upstreamRetried(upstream: string, outcome: RetryOutcome): void;
  /** A retryable failure on `upstream` was not retried: its retry budget was spent. */
  retryBudgetExhausted(upstream: string): void;
  /**
   * The running snapshot's version, and when the registry last confirmed it current (loaded,
   * or revalidated with the ETag), epoch ms. The age is measured from then at scrape time.
   */
  recordSnapshot(version: number, confirmedAtMs: number): void;
}

export interface GatewayMetricsOptions {
  registry: Registry;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Histogram buckets, seconds. Default LATENCY_BUCKETS. */
  buckets?: readonly number[];
}

type RouteLabels = { org: string; api: string; version: string };

/** A counter series counted outside prom-client until the next scrape. */
interface CounterCell {
  labels: Record<string, string>;
  pending: number;
  /** Its route left the snapshot: the series is removed and never flushed again. */
  isDropped: boolean;
}

/**
 * A histogram whose series are created up front and observed without label hashing,
 * registered in a prom-client Registry as a metric of its own.
 */
class PreparedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly children = new Map<string, HistogramChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {}

  child(id: string, labels: RouteLabels): HistogramChild {
    let child = this.children.get(id);
    if (child === undefined) {
      child = new HistogramChild(labels, this.bounds);
      this.children.set(id, child);
    }
    return child;
  }

  remove(id: string): void {
    this.children.delete(id);
  }

  reset(): void {
    for (const child of this.children.values()) child.reset();
  }

  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const child of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += child.counts[i]!;
        values.push({
          labels: { ...child.labels, le: this.bounds[i]! },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({
        labels: { ...child.labels, le: '+Inf' },
        value: child.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: child.labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: child.labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

class HistogramChild {
  /** Per bucket, not cumulative; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: RouteLabels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const { registry } = options;
  const clock = options.clock ?? Date.now;
  const bounds = options.buckets ?? LATENCY_BUCKETS;
  const dirty: CounterCell[] = [];
  const dirtyRateLimited: CounterCell[] = [];
  const authCounts = new Float64Array(AUTH_REJECTION_REASONS.length);
  const authIndex = new Map<string, number>(AUTH_REJECTION_REASONS.map((reason, i) => [reason, i]));
  let inFlight = 0;
  let floodRefusals = 0;
  let snapshotConfirmedAt = Number.NaN;

  const requestsTotal = new Counter({
    name: 'spl_gateway_requests_total',
    help: 'Requests answered by the gateway, by route template, calling application, method and status',
    labelNames: ['org', 'api', 'version', 'application', 'method', 'status'] as const,
    registers: [registry],
    collect() {
      for (const cell of dirty) {
        if (!cell.isDropped) this.inc(cell.labels, cell.pending);
        cell.pending = 0;
      }
      dirty.length = 0;
    },
  });
  const rateLimitedTotal = new Counter({
    name: 'spl_gateway_rate_limited_total',
    help: 'Requests refused by the plan rate limit (429), by route template and calling application',
    labelNames: ['org', 'api', 'version', 'application'] as const,
    registers: [registry],
    collect() {
      for (const cell of dirtyRateLimited) {
        if (!cell.isDropped) this.inc(cell.labels, cell.pending);
        cell.pending = 0;
      }
      dirtyRateLimited.length = 0;
    },
  });
  const authRejectionsTotal = new Counter({
    name: 'spl_gateway_auth_rejections_total',
    help: 'Requests refused by authentication or authorisation (401, 403), by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      for (let i = 0; i < authCounts.length; i++) {
        this.inc({ reason: AUTH_REJECTION_REASONS[i]! }, authCounts[i]!);
        authCounts[i] = 0;
      }
    },
  });
  // No client-address label: a flood from many addresses would become a series each. Which
  // address it was is in the access log (429 lines with `clientIp`).
  new Counter({
    name: 'spl_gateway_flood_refused_total',
    help: 'Requests refused with 429 by the per-client-address flood guard (SPL_FLOOD_*), before authentication',
    registers: [registry],
    collect() {
      this.inc(floodRefusals);
      floodRefusals = 0;
    },
  });
  new Gauge({
    name: 'spl_gateway_requests_in_flight',
    help: 'Requests received and not yet answered',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });
  const upstreamUp = new Gauge({
    name: 'spl_gateway_upstream_up',
    help: 'Whether an upstream is usable (1): it passes the active health check (when on) and its circuit is not open; by upstream origin',
    labelNames: ['upstream'] as const,
    registers: [registry],
    // With SPL_GATEWAY_WORKERS > 1 (cluster.ts): down when any worker finds it down.
    aggregator: 'min',
  });
  const circuitState = new Gauge({
    name: 'spl_gateway_upstream_circuit_state',
    help: 'State of an upstream circuit breaker as it last changed: 1 for the current state (closed, half_open, open), 0 for the others',
    labelNames: ['upstream', 'state'] as const,
    registers: [registry],
    aggregator: 'max', // across workers: 1 when any worker's circuit is in that state
  });
  const retriesTotal = new Counter({
    name: 'spl_gateway_upstream_retries_total',
    help: 'Retries of idempotent requests after a transport failure, by the upstream origin that failed and the outcome of the retry',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [registry],
  });
  const budgetExhaustedTotal = new Counter({
    name: 'spl_gateway_upstream_retry_budget_exhausted_total',
    help: 'Retryable failures not retried because the upstream retry budget was spent, by upstream origin',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  const snapshotVersion = new Gauge({
    name: 'spl_gateway_snapshot_version',
    help: 'Version of the registry snapshot the gateway routes with (0 before the first)',
    registers: [registry],
    aggregator: 'min', // across workers: the oldest one's
  });
  new Gauge({
    name: 'spl_gateway_snapshot_age_seconds',
    help: 'Seconds since the registry last confirmed the running snapshot current (NaN before the first)',
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.set((clock() - snapshotConfirmedAt) / 1000);
    },
  });
  const requestDuration = new PreparedHistogram(
    'spl_gateway_request_duration_seconds',
    'Time from receiving a request to answering it, by route template',
    ['org', 'api', 'version'],
    bounds,
  );
  const upstreamDuration = new PreparedHistogram(
    'spl_gateway_upstream_duration_seconds',
    'Time the upstream took to answer, by route template',
    ['org', 'api', 'version'],
    bounds,
  );
  registry.registerMetric(requestDuration as unknown as Metric);
  registry.registerMetric(upstreamDuration as unknown as Metric);
  // Every reason is a series from the start, so rate() sees its first rejection.
  for (const reason of AUTH_REJECTION_REASONS) authRejectionsTotal.inc({ reason }, 0);

  let knownApplications = new Set<string>();
  const routes = new Map<string, PreparedRoute>();
  /** Upstream origin → what `spl_gateway_upstream_up` is computed from. */
  const upstreams = new Map<string, { isProbeUp: boolean; circuit: CircuitState }>();

  function upstreamState(upstream: string) {
    let state = upstreams.get(upstream);
    if (state === undefined) {
      state = { isProbeUp: true, circuit: 'closed' };
      upstreams.set(upstream, state);
      // Every series exists from the start, so rate() and alerts see the first change.
      for (const outcome of RETRY_OUTCOMES) retriesTotal.inc({ upstream, outcome }, 0);
      budgetExhaustedTotal.inc({ upstream }, 0);
      showUpstream(upstream, state);
    }
    return state;
  }

  function showUpstream(upstream: string, state: { isProbeUp: boolean; circuit: CircuitState }): void {
    upstreamUp.set({ upstream }, state.isProbeUp && state.circuit !== 'open' ? 1 : 0);
    for (const { state: s, label } of CIRCUIT_STATES)
      circuitState.set({ upstream, state: label }, s === state.circuit ? 1 : 0);
  }

  function forgetUpstream(upstream: string): void {
    upstreams.delete(upstream);
    upstreamUp.remove({ upstream });
    for (const { label } of CIRCUIT_STATES) circuitState.remove({ upstream, state: label });
    for (const outcome of RETRY_OUTCOMES) retriesTotal.remove({ upstream, outcome });
    budgetExhaustedTotal.remove({ upstream });
  }

  function applicationLabel(application: string | undefined): string {
    if (application === undefined || application === '') return 'anonymous';
    return knownApplications.has(application) ? application : 'unknown';
  }

  class PreparedRoute implements RouteMetrics {
    /** application → method → status → series */
    private readonly requests = new Map<string, Map<string, Map<number, CounterCell>>>();
    private readonly limited = new Map<string, CounterCell>();
    private readonly duration: HistogramChild;
    private readonly upstream: HistogramChild;

    constructor(
      readonly id: string,
      readonly labels: RouteLabels,
    ) {
      this.duration = requestDuration.child(id, labels);
      this.upstream = upstreamDuration.child(id, labels);
    }

    observeRequest(
      application: string | undefined,
      method: string,
      status: number,
      durationSeconds: number,
      upstreamSeconds?: number,
    ): void {
      const app = applicationLabel(application);
      const verb = METHODS.has(method) ? method : 'OTHER';
      let byMethod = this.requests.get(app);
      if (byMethod === undefined) {
        byMethod = new Map();
        this.requests.set(app, byMethod);
      }
      let byStatus = byMethod.get(verb);
      if (byStatus === undefined) {
        byStatus = new Map();
        byMethod.set(verb, byStatus);
      }
      let cell = byStatus.get(status);
      if (cell === undefined) {
        cell = {
          labels: { ...this.labels, application: app, method: verb, status: String(status) },
          pending: 0,
          isDropped: false,
        };
        byStatus.set(status, cell);
      }
      if (cell.pending++ === 0) dirty.push(cell);
      this.duration.observe(durationSeconds);
      if (upstreamSeconds !== undefined) this.upstream.observe(upstreamSeconds);
    }

    rateLimited(application: string | undefined): void {
      const app = applicationLabel(application);
      let cell = this.limited.get(app);
      if (cell === undefined) {
        cell = { labels: { ...this.labels, application: app }, pending: 0, isDropped: false };
        this.limited.set(app, cell);
      }
      if (cell.pending++ === 0) dirtyRateLimited.push(cell);
    }

    drop(): void {
      for (const byMethod of this.requests.values())
        for (const byStatus of byMethod.values())
          for (const cell of byStatus.values()) {
            cell.isDropped = true;
            requestsTotal.remove(cell.labels);
          }
      for (const cell of this.limited.values()) {
        cell.isDropped = true;
        rateLimitedTotal.remove(cell.labels);
      }
      requestDuration.remove(this.id);
      upstreamDuration.remove(this.id);
    }
  }

  const unmatched = new PreparedRoute('\0unmatched', {
    org: UNMATCHED_LABEL,
    api: UNMATCHED_LABEL,
    version: UNMATCHED_LABEL,
  });

  return {
    prepare(nextRoutes, applications) {
      knownApplications = new Set(applications);
      const seen = new Set<string>();
      const nextUpstreams = new Set<string>();
      for (const route of nextRoutes) {
        seen.add(route.id);
        const existing = routes.get(route.id);
        const labels = { org: route.org, api: route.api, version: route.version };
        if (
          existing === undefined ||
          existing.labels.org !== labels.org ||
          existing.labels.api !== labels.api ||
          existing.labels.version !== labels.version
        ) {
          if (existing !== undefined) dropRoute(existing);
          routes.set(route.id, new PreparedRoute(route.id, labels));
        }
        for (const url of route.upstream?.urls ?? []) nextUpstreams.add(originOf(url));
      }
      for (const [id, route] of routes) if (!seen.has(id)) dropRoute(route);
      for (const upstream of [...upstreams.keys()])
        if (!nextUpstreams.has(upstream)) forgetUpstream(upstream);
      for (const upstream of nextUpstreams) upstreamState(upstream);
    },
    route(routeId) {
      return routes.get(routeId) ?? unmatched;
    },
    unmatched,
    requestStarted() {
      inFlight++;
    },
    requestFinished() {
      inFlight--;
    },
    authRejected(reason) {
      const i = authIndex.get(reason) ?? AUTH_REJECTION_REASONS.length - 1;
      authCounts[i]!++;
    },
    floodRefused() {
      floodRefusals++;
    },
    setUpstreamUp(upstream, isUp) {
      const state = upstreamState(upstream);
      state.isProbeUp = isUp;
      showUpstream(upstream, state);
    },
    setCircuitState(upstream, circuit) {
      const state = upstreamState(upstream);
      state.circuit = circuit;
      showUpstream(upstream, state);
    },
    upstreamRetried(upstream, outcome) {
      upstreamState(upstream);
      retriesTotal.inc({ upstream, outcome });
    },
    retryBudgetExhausted(upstream) {
      upstreamState(upstream);
      budgetExhaustedTotal.inc({ upstream });
    },
    recordSnapshot(version, confirmedAtMs) {
      snapshotVersion.set(version);
      snapshotConfirmedAt = confirmedAtMs;
    },
  };

  /** Forgets a route that left the snapshot, its series included (counts not yet scraped are lost). */
  function dropRoute(route: PreparedRoute): void {
    routes.delete(route.id);
    route.drop();
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
