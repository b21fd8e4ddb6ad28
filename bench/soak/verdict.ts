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
 * A leak: heap growing faster than both of these, per hour, along a least-squares line through
 * the heap's floors. Relative, so a big process is not held to a small one's bytes; absolute,
 * so a 30 MiB process drifting 3 MiB/h (allocator and GC noise) does not fail.
 *
 * Heap used saws up and down between collections, and at two scales. Scavenges (minor
 * collections, many a minute under load) clear only the young generation; what survives them
 * is promoted, and the old generation fills with promoted garbage until a major collection
 * brings it back to the live set. For the registry that is a tooth of about 13 minutes rising
 * ≈ 6.5 MiB (docs/soak.md, the 24-minute run), and each minute's lowest sample follows its
 * rising side: a 12-minute run fitted through minute floors read one tooth as 34.5 ± 7.8 MiB/h
 * of "growth" and failed. What a leak raises is the floor just after a major collection, so
 * the line is fitted to those: the samples after warm-up are split into epochs at every
 * scrape whose major-collection count went up, and each epoch's lowest sample (the live set
 * just after the collection, plus what one 2 s scrape interval adds) is one point, at that
 * sample's time. The epoch before the first major collection in the window is dropped: its
 * floor is wherever the old generation stood when warm-up ended, not a post-collection floor.
 * A missed count (prom-client records only the first of the GC entries its observer is handed
 * at once) merges two epochs, whose lowest sample is still a post-collection floor: the fit
 * loses a point, not its footing.
 *
 * Those points are few (an hour holds four of the registry's teeth), so growth counts only when
 * the slope less its 95 % margin (Student's t for the points there are, times the standard
 * error) is above the threshold — the run must show the growth, not merely fail to rule it
 * out. The report gives the slope ± that margin: the smallest growth the run could have
 * caught. With fewer than MIN_HEAP_FLOORS the heap is not judged at all, and the verdict says
 * so in its notes rather than passing or failing on a ramp it cannot tell from a tooth.
 * A service that does not export the GC histogram is fitted through minute floors, the method
 * before this one: better a verdict that may misread a tooth than none.
 */
export const HEAP_GROWTH_FRACTION_PER_HOUR = 0.1;
export const HEAP_GROWTH_BYTES_PER_HOUR = 20 * MiB;
/** Post-major-collection floors needed to judge a heap: two points make a line with no margin. */
export const MIN_HEAP_FLOORS = 3;
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
 * so it is noisier: the same test (slope less its 95 % margin) with twice the slack. It keeps
 * minute floors: a major collection does not bring RSS back down the way it does heap used
 * (V8 and the allocator keep much of what they have mapped, and off-heap memory is not
 * collected there), so epochs between collections would not isolate its floor.
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
  /** What the line was fitted through: each epoch's lowest heap after a major collection, or each minute's lowest sample. */
  basis: 'major-gc floors' | 'minute floors';
  /** How many floors the line was fitted through. */
  floors: number;
  /** Major collections after warm-up, on the major-gc basis; null on minute floors. */
  majorGcs: number | null;
  /** False when too few major collections happened to judge the heap: slope and margin are NaN, and it is never a leak. */
  judged: boolean;
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
  /** What the verdict could not judge and why (a heap with too few major collections): not failures. */
  notes: string[];
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

/** Each minute's lowest value: the floor a leak raises, without the sawtooth between scavenges. */
function minuteFloors(points: Array<[number, number]>): Array<[number, number]> {
  const byMinute = new Map<number, [number, number]>();
  for (const [t, y] of points) {
    const m = Math.floor(t / 60);
    const cur = byMinute.get(m);
    if (!cur || y < cur[1]) byMinute.set(m, [t, y]);
  }
  return [...byMinute.values()];
}

/**
 * Each epoch's lowest heap, an epoch running from a scrape whose major-collection count went
 * up to the next such scrape; `before` is the last count seen before these points (in the
 * warm-up), so a collection just before the window still opens the first epoch. Samples before
 * the first collection belong to no epoch. A count that goes down (the process restarted)
 * opens none: the next increase does.
 */
export function majorGcFloors(
  points: Array<{ t: number; y: number; majorGcCount: number }>,
  before = Number.NaN,
): { floors: Array<[number, number]>; majorGcs: number } {
  const floors: Array<[number, number]> = [];
  let majorGcs = 0;
  let previous = before;
  let epoch: [number, number] | null = null;
  for (const { t, y, majorGcCount } of points) {
    if (Number.isFinite(majorGcCount)) {
      if (majorGcCount > previous) {
        majorGcs += majorGcCount - previous;
        if (epoch) floors.push(epoch);
        epoch = [t, y];
      }
      previous = majorGcCount;
    }
    if (epoch && y < epoch[1]) epoch = [t, y];
  }
  if (epoch) floors.push(epoch);
  return { floors, majorGcs };
}

function trendOf(
  service: string,
  metric: Trend['metric'],
  points: Array<{ t: number; y: number; majorGcCount: number }>,
  majorGcCountBefore: number,
): Trend {
  const byMajorGc = metric === 'heap' && points.some((p) => Number.isFinite(p.majorGcCount));
  const { floors, majorGcs } = byMajorGc
    ? majorGcFloors(points, majorGcCountBefore)
    : { floors: minuteFloors(points.map(({ t, y }) => [t, y])), majorGcs: null };
  const judged = !byMajorGc || floors.length >= MIN_HEAP_FLOORS;
  const fit = judged ? fitSlope(floors) : { slope: Number.NaN, margin: Number.NaN };
  const slopeBytesPerHour = fit.slope * 3600;
  const slopeMarginBytesPerHour = fit.margin * 3600;
  const medianBytes = median(points.map(({ y }) => y));
  const [fraction, bytes] =
    metric === 'heap'
      ? [HEAP_GROWTH_FRACTION_PER_HOUR, HEAP_GROWTH_BYTES_PER_HOUR]
      : [RSS_GROWTH_FRACTION_PER_HOUR, RSS_GROWTH_BYTES_PER_HOUR];
  return {
    service,
    metric,
    startBytes: points[0]?.y ?? Number.NaN,
    endBytes: points.at(-1)?.y ?? Number.NaN,
    medianBytes,
    slopeBytesPerHour,
    slopeMarginBytesPerHour,
    basis: byMajorGc ? 'major-gc floors' : 'minute floors',
    floors: floors.length,
    majorGcs,
    judged,
    isLeak: judged && slopeBytesPerHour - slopeMarginBytesPerHour > Math.max(fraction * medianBytes, bytes),
  };
}

export function judge(
  samples: HubSample[],
  windows: TimedWindow[],
  events: EventCounts,
  durationSeconds: number,
): Verdict {
  const warmup = warmupSeconds(durationSeconds);
  const trendMinutes = (durationSeconds - warmup) / 60;
  const failures: string[] = [];
  const notes: string[] = [];
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
    const majorGcCountBefore =
      samples
        .filter((s) => s.t < warmup)
        .map((s) => s.services[service]?.majorGcCount ?? Number.NaN)
        .filter(Number.isFinite)
        .at(-1) ?? Number.NaN;
    for (const metric of ['heap', 'rss'] as const) {
      const trend = trendOf(
        service,
        metric,
        own.map((p) => ({
          t: p.t,
          y: metric === 'heap' ? p.heapUsedBytes : p.rssBytes,
          majorGcCount: p.majorGcCount,
        })),
        majorGcCountBefore,
      );
      trends.push(trend);
      if (!trend.judged) {
        const n = trend.majorGcs ?? 0;
        // Two collections between the same two scrapes open one epoch: say so if it happened.
        const floors = n === trend.floors ? '' : ` (${trend.floors} floors)`;
        notes.push(
          `${service}: ${metric} not judged — ${n} major collection${n === 1 ? '' : 's'}${floors} in ${trendMinutes.toFixed(1)} min after warm-up, ${MIN_HEAP_FLOORS} needed; run longer`,
        );
      }
      if (trend.isLeak)
        failures.push(
          `${service}: ${metric} grows ${(trend.slopeBytesPerHour / MiB).toFixed(1)} ± ${(trend.slopeMarginBytesPerHour / MiB).toFixed(1)} MiB/h (median ${(trend.medianBytes / MiB).toFixed(1)} MiB, ${trend.floors} ${trend.basis})`,
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

  return { warmupSeconds: warmup, trends, eventLoopP99Ms, latency, errors, failures, notes };
}
