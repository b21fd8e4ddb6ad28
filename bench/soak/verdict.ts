import type { LoadWindow } from './load.js';
import type { HubSample } from './sampling.js';

const MiB = 1024 * 1024;

/**
 * The warm-up left out of every trend: JIT compilation, caches filling (token cache, compiled
 * snapshot, connection pools) and V8 growing its heap to its working size all happen in the
 * first minutes and would read as growth. 20 % of the run, at most 2 minutes.
 */
export const WARMUP_FRACTION = 0.2;
export const WARMUP_MAX_SECONDS = 120;

/**
 * A leak: heap growing faster than both of these, per hour, along the least-squares line
 * through the post-warm-up samples. Relative, so a big process is not held to a small one's
 * bytes; absolute, so a 30 MiB process drifting 3 MiB/h (allocator and GC noise) does not fail.
 *
 * Heap used saws up and down between collections (tens of MiB at this rate), and what a leak
 * raises is the floor after one: the line is fitted to each minute's lowest sample. Even so a
 * 10-minute run has only ten points, so growth counts only when the slope less its 95 %
 * margin (Student's t for the points there are, times the standard error) is above the
 * threshold — the run must show the growth, not merely fail to rule it out. The report gives
 * the slope ± that margin: the smallest growth the run could have caught.
 */
export const HEAP_GROWTH_FRACTION_PER_HOUR = 0.1;
export const HEAP_GROWTH_BYTES_PER_HOUR = 20 * MiB;
/** Fewer minutes than this after warm-up cannot say anything about a trend: the run fails as too short. */
export const MIN_TREND_MINUTES = 5;

/** Two-sided 95 % Student's t by degrees of freedom (n − 2 for a fitted line); 1.96 beyond 30. */
const T_95: Record<number, number> = {
  1: 12.71,
  2: 4.3,
  3: 3.18,
  4: 2.78,
  5: 2.57,
  6: 2.45,
  7: 2.36,
  8: 2.31,
  9: 2.26,
  10: 2.23,
  12: 2.18,
  15: 2.13,
  20: 2.09,
  25: 2.06,
  30: 2.04,
};
function t95(df: number): number {
  if (df > 30) return 1.96;
  const known = Object.keys(T_95)
    .map(Number)
    .filter((k) => k <= df);
  return T_95[Math.max(1, ...known)]!;
}
/**
 * RSS is also off-heap buffers, the allocator's fragmentation and V8 reserving heap in steps,
 * so it is noisier: the same test (minute floors, slope less 2 SE) with twice the slack.
 */
export const RSS_GROWTH_FRACTION_PER_HOUR = 0.2;
export const RSS_GROWTH_BYTES_PER_HOUR = 40 * MiB;
/**
 * Latency drift: the gateway's p99 at the end against the start (each the median of three
 * 10 s windows, so one window disturbed by other work on the machine does not decide it) more
 * than doubled and by more than 5 ms — below 5 ms a doubling is scheduling noise on loopback.
 */
export const LATENCY_DRIFT_FACTOR = 2;
export const LATENCY_DRIFT_MS = 5;
export const LATENCY_EDGE_WINDOWS = 3;
/**
 * A service's event loop blocked: the median of its per-window event-loop delay p99 after
 * warm-up above this. At half the peak rate every process should have idle time; prom-client
 * samples the delay at 10 ms resolution, so an idle loop reads about 10 ms, and a median p99
 * of 100 ms means requests routinely wait behind a blocked loop.
 */
export const EVENT_LOOP_P99_MS = 100;

export interface TimedWindow extends LoadWindow {
  /** Seconds since the paced run began, at the window's end. */
  t: number;
}

export interface Trend {
  service: string;
  metric: 'heap' | 'rss';
  startBytes: number;
  endBytes: number;
  medianBytes: number;
  slopeBytesPerHour: number;
  /** The slope's 95 % margin (t × standard error), bytes per hour. */
  slopeMarginBytesPerHour: number;
  isLeak: boolean;
}

export interface EventCounts {
  published: number;
  attempts: number;
  delivered: number;
  lost: number;
  duplicated: number;
}

export interface Verdict {
  warmupSeconds: number;
  trends: Trend[];
  eventLoopP99Ms: Record<string, { median: number; max: number }>;
  latency: { firstP50: number; firstP99: number; lastP50: number; lastP99: number; isDrift: boolean };
  /** Every answer but 200, over the whole paced run (warm-up included). */
  errors: Record<string, number>;
  failures: string[];
}

export function warmupSeconds(durationSeconds: number): number {
  return Math.min(WARMUP_MAX_SECONDS, durationSeconds * WARMUP_FRACTION);
}

const median = (xs: number[]) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Least-squares slope of y over x, with its standard error. */
export function fitSlope(points: Array<[number, number]>): { slope: number; margin: number } {
  const n = points.length;
  if (n < 3) return { slope: 0, margin: Number.POSITIVE_INFINITY };
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  if (sxx === 0) return { slope: 0, margin: Number.POSITIVE_INFINITY };
  const slope = sxy / sxx;
  const residuals = points.reduce((a, [x, y]) => a + (y - my - slope * (x - mx)) ** 2, 0);
  return { slope, margin: t95(n - 2) * Math.sqrt(residuals / (n - 2) / sxx) };
}

/** Each minute's lowest value: the floor a leak raises, without the sawtooth between GCs. */
function minuteFloors(points: Array<[number, number]>): Array<[number, number]> {
  const byMinute = new Map<number, [number, number]>();
  for (const [t, y] of points) {
    const m = Math.floor(t / 60);
    const cur = byMinute.get(m);
    if (!cur || y < cur[1]) byMinute.set(m, [t, y]);
  }
  return [...byMinute.values()];
}

function trendOf(service: string, metric: Trend['metric'], points: Array<[number, number]>): Trend {
  const fit = fitSlope(minuteFloors(points));
  const slopeBytesPerHour = fit.slope * 3600;
  const slopeMarginBytesPerHour = fit.margin * 3600;
  const medianBytes = median(points.map(([, y]) => y));
  const [fraction, bytes] =
    metric === 'heap'
      ? [HEAP_GROWTH_FRACTION_PER_HOUR, HEAP_GROWTH_BYTES_PER_HOUR]
      : [RSS_GROWTH_FRACTION_PER_HOUR, RSS_GROWTH_BYTES_PER_HOUR];
  return {
    service,
    metric,
    startBytes: points[0]?.[1] ?? Number.NaN,
    endBytes: points.at(-1)?.[1] ?? Number.NaN,
    medianBytes,
    slopeBytesPerHour,
    slopeMarginBytesPerHour,
    isLeak: slopeBytesPerHour - slopeMarginBytesPerHour > Math.max(fraction * medianBytes, bytes),
  };
}

export function judge(
  samples: HubSample[],
  windows: TimedWindow[],
  events: EventCounts,
  durationSeconds: number,
): Verdict {
  const warmup = warmupSeconds(durationSeconds);
  const failures: string[] = [];
  const steady = samples.filter((s) => s.t >= warmup);
  const services = Object.keys(samples[0]?.services ?? {});

  const trends: Trend[] = [];
  const eventLoopP99Ms: Verdict['eventLoopP99Ms'] = {};
  for (const service of services) {
    const own = steady.flatMap((s) => {
      const p = s.services[service];
      return p ? [{ t: s.t, ...p }] : [];
    });
    const missed = samples.filter((s) => !s.services[service]).length;
    if (missed > 0) failures.push(`${service}: /metrics did not answer ${missed} time(s)`);
    for (const metric of ['heap', 'rss'] as const) {
      const trend = trendOf(
        service,
        metric,
        own.map((p) => [p.t, metric === 'heap' ? p.heapUsedBytes : p.rssBytes]),
      );
      trends.push(trend);
      if (trend.isLeak)
        failures.push(
          `${service}: ${metric} grows ${(trend.slopeBytesPerHour / MiB).toFixed(1)} ± ${(trend.slopeMarginBytesPerHour / MiB).toFixed(1)} MiB/h (median ${(trend.medianBytes / MiB).toFixed(1)} MiB)`,
        );
    }
    const loop = own.map((p) => p.eventLoopP99Ms);
    eventLoopP99Ms[service] = { median: median(loop), max: Math.max(...loop.filter(Number.isFinite)) };
    if (eventLoopP99Ms[service].median > EVENT_LOOP_P99_MS)
      failures.push(
        `${service}: event-loop delay p99 median ${eventLoopP99Ms[service].median.toFixed(1)} ms > ${EVENT_LOOP_P99_MS} ms`,
      );
  }

  const measured = windows.filter((w) => w.t > warmup && w.requests > 0);
  const first = measured.slice(0, LATENCY_EDGE_WINDOWS);
  const last = measured.slice(-LATENCY_EDGE_WINDOWS);
  const latency = {
    firstP50: median(first.map((w) => w.p50Ms)),
    firstP99: median(first.map((w) => w.p99Ms)),
    lastP50: median(last.map((w) => w.p50Ms)),
    lastP99: median(last.map((w) => w.p99Ms)),
    isDrift: false,
  };
  latency.isDrift =
    latency.lastP99 > latency.firstP99 * LATENCY_DRIFT_FACTOR &&
    latency.lastP99 - latency.firstP99 > LATENCY_DRIFT_MS;
  if (latency.isDrift)
    failures.push(`gateway p99 drifted ${latency.firstP99.toFixed(1)} → ${latency.lastP99.toFixed(1)} ms`);
  if (measured.length < 2 * LATENCY_EDGE_WINDOWS) failures.push('too few windows after warm-up to judge');
  const trendMinutes = (durationSeconds - warmup) / 60;
  if (trendMinutes < MIN_TREND_MINUTES)
    failures.push(
      `too short to judge memory trends: ${trendMinutes.toFixed(1)} min after warm-up, ${MIN_TREND_MINUTES} needed`,
    );

  const errors: Record<string, number> = {};
  for (const w of windows)
    for (const [status, n] of Object.entries(w.byStatus))
      if (status !== '200') errors[status] = (errors[status] ?? 0) + n;
  // Any answer but 200 fails it: 5xx and refused/timed-out calls are the hub failing, and at
  // half the peak with the soak's plan a 4xx (429, 401 from a stale token) is the harness or
  // the hub misbehaving, not load.
  if (Object.keys(errors).length > 0)
    failures.push(
      `gateway answers other than 200: ${Object.entries(errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
  if (events.lost > 0) failures.push(`${events.lost} acknowledged event(s) not delivered`);

  return { warmupSeconds: warmup, trends, eventLoopP99Ms, latency, errors, failures };
}
