import { describe, expect, it } from 'vitest';
import { renderSummary, type SoakReport } from './report.js';
import type { HubSample, ProcessSample } from './sampling.js';
import { type EventCounts, judge, majorGcFloors, type TimedWindow, type Trend } from './verdict.js';

/**
 * The soak's verdict on synthetic runs: scrapes every 2 s as bench/soak/run.ts takes them, a
 * heap shaped like the registry's in docs/soak.md (a floor, promoted garbage piling up on it
 * until a major collection, a scavenge sawtooth of a few MiB on top, a little jitter), a flat
 * gateway beside it, and a steady, error-free load.
 */

const MiB = 1024 * 1024;
const SCRAPE_SECONDS = 2;

interface HeapShape {
  /** The live set at t seconds: what a major collection brings the heap back to. */
  floorMiB: (t: number) => number;
  /** Seconds between major collections (the first at gcEvery); Infinity for none in the run. */
  gcEvery: number;
  /** Promoted garbage piling up between major collections. */
  garbageMiBPerMinute: number;
  /** false: the service does not export nodejs_gc_duration_seconds (majorGcCount NaN). */
  gcMetric?: boolean;
}

/** A deterministic jitter of ±0.2 MiB, so a fitted line has residuals. */
function jitter(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return (x / 2 ** 31 - 0.5) * 0.4 * MiB;
  };
}

function processAt(t: number, shape: HeapShape, noise: () => number): ProcessSample {
  const collections = Number.isFinite(shape.gcEvery) ? Math.floor(t / shape.gcEvery) : 0;
  const sinceCollection = t - collections * (Number.isFinite(shape.gcEvery) ? shape.gcEvery : 0);
  const scavenge = ((t % 10) / 10) * 4 * MiB;
  return {
    heapUsedBytes:
      shape.floorMiB(t) * MiB + (sinceCollection / 60) * shape.garbageMiBPerMinute * MiB + scavenge + noise(),
    rssBytes: 150 * MiB + noise(),
    eventLoopP99Ms: 12,
    queueDepth: null,
    // A process has had major collections before the soak starts (start-up, the peak run).
    majorGcCount: shape.gcMetric === false ? Number.NaN : 40 + collections,
  };
}

function soakRun(minutes: number, registry: HeapShape) {
  const seconds = minutes * 60;
  const gateway: HeapShape = { floorMiB: () => 45, gcEvery: 120, garbageMiBPerMinute: 3 };
  const noise = { registry: jitter(1), gateway: jitter(2) };
  const samples: HubSample[] = [];
  for (let t = 0; t <= seconds; t += SCRAPE_SECONDS)
    samples.push({
      t,
      services: {
        registry: processAt(t, registry, noise.registry),
        gateway: processAt(t, gateway, noise.gateway),
      },
      redisUsedBytes: 4 * MiB,
    });
  const windows: TimedWindow[] = [];
  for (let t = 10; t <= seconds; t += 10)
    windows.push({ t, requests: 5000, byStatus: { '200': 5000 }, p50Ms: 5, p99Ms: 20, maxMs: 40 });
  const events: EventCounts = { published: 100, attempts: 100, delivered: 100, lost: 0, duplicated: 0 };
  return { samples, windows, events, verdict: judge(samples, windows, events, seconds) };
}

const trend = (trends: Trend[], service: string, metric: Trend['metric']) =>
  trends.find((t) => t.service === service && t.metric === metric)!;

describe('the soak verdict on heap growth', () => {
  it('does not call a sawtooth between major collections a leak', () => {
    // 20 minutes, a major collection every 3 minutes bringing the heap back to a flat 52 MiB.
    const { verdict } = soakRun(20, { floorMiB: () => 52, gcEvery: 180, garbageMiBPerMinute: 2 });

    expect(verdict.failures).toEqual([]);
    expect(verdict.notes).toEqual([]);
    const heap = trend(verdict.trends, 'registry', 'heap');
    expect(heap).toMatchObject({ basis: 'major-gc floors', judged: true, isLeak: false });
    // Collections at 3, 6, … 18 minutes: six after the 2-minute warm-up.
    expect(heap.floors).toBe(6);
    expect(heap.majorGcs).toBe(6);
    expect(Math.abs(heap.slopeBytesPerHour)).toBeLessThan(2 * MiB);
  });

  it('fails a heap whose floor after each major collection rises, naming the service', () => {
    // The same sawtooth on a live set growing 1 MiB a minute (60 MiB/h).
    const { verdict } = soakRun(20, {
      floorMiB: (t) => 52 + t / 60,
      gcEvery: 180,
      garbageMiBPerMinute: 2,
    });

    expect(verdict.failures).toHaveLength(1);
    expect(verdict.failures[0]).toMatch(/^registry: heap grows \d+\.\d ± \d+\.\d MiB\/h .*6 major-gc floors/);
    const heap = trend(verdict.trends, 'registry', 'heap');
    expect(heap.isLeak).toBe(true);
    expect(heap.slopeBytesPerHour / MiB).toBeCloseTo(60, 0);
    expect(trend(verdict.trends, 'gateway', 'heap').isLeak).toBe(false);
  });

  it('passes a 12-minute run whose heap only ramps towards its first major collection, saying the heap was not judged', () => {
    // The false alarm of docs/soak.md: 12 minutes, promoted garbage piling up at 30 MiB/h and
    // no major collection after warm-up. Minute floors read that as 30 MiB/h of growth.
    const run = soakRun(12, {
      floorMiB: () => 52,
      gcEvery: Number.POSITIVE_INFINITY,
      garbageMiBPerMinute: 0.5,
    });
    const { verdict } = run;

    expect(verdict.failures).toEqual([]);
    expect(verdict.notes).toEqual([
      'registry: heap not judged — 0 major collections in 10.0 min after warm-up, 3 needed; run longer',
    ]);
    expect(trend(verdict.trends, 'registry', 'heap')).toMatchObject({
      judged: false,
      isLeak: false,
      majorGcs: 0,
    });
    // The gateway beside it collects every 2 minutes, the first just as warm-up ends (its epoch
    // is complete on the left: the scrape before it, in the warm-up, had the lower count).
    expect(trend(verdict.trends, 'gateway', 'heap')).toMatchObject({ judged: true, floors: 6 });

    const report: SoakReport = {
      startedAt: '2026-12-04T16:23:59.000Z',
      minutes: 12,
      peak: { rps: 1000, requests: 20000, byStatus: { '200': 20000 }, errors: 0 },
      soakRate: 500,
      achievedRate: 500,
      requests: 360000,
      events: { ...run.events, publishRetries: 0, webhookRefusals: 0 },
      tokenRefreshFailures: 0,
      redisUsedBytes: { start: 4 * MiB, end: 4 * MiB },
      queueDepthMax: 0,
      verdict,
      windows: run.windows,
      samples: run.samples,
    };
    const summary = renderSummary(report);
    expect(summary).toContain(
      '| verdict | PASS (registry: heap not judged — 0 major collections in 10.0 min',
    );
    expect(summary).toMatch(/\| registry \| [^|]+\| not judged \(0 major GCs\) \|/);
    expect(summary).toMatch(/\| gateway \| [^|]+\| -?\d+\.\d ± \d+\.\d \(6 floors\) \|/);
  });

  it('judges the heap by minute floors, as before, when a service exports no GC histogram', () => {
    // The same 12-minute ramp without nodejs_gc_duration_seconds: nothing to split it at, so
    // the ramp is fitted minute by minute and fails, as every run did before.
    const { verdict } = soakRun(12, {
      floorMiB: () => 52,
      gcEvery: Number.POSITIVE_INFINITY,
      garbageMiBPerMinute: 0.5,
      gcMetric: false,
    });

    const heap = trend(verdict.trends, 'registry', 'heap');
    expect(heap).toMatchObject({ basis: 'minute floors', judged: true, majorGcs: null, isLeak: true });
    expect(heap.slopeBytesPerHour / MiB).toBeCloseTo(30, 0);
    expect(verdict.failures).toEqual([expect.stringMatching(/^registry: heap grows .*minute floors\)$/)]);
    expect(verdict.notes).toEqual([]);
  });

  it('keeps fitting RSS through minute floors', () => {
    const { verdict } = soakRun(20, { floorMiB: () => 52, gcEvery: 180, garbageMiBPerMinute: 2 });
    expect(trend(verdict.trends, 'registry', 'rss')).toMatchObject({
      basis: 'minute floors',
      judged: true,
      majorGcs: null,
      floors: 19, // minutes 2 to 20 after the 2-minute warm-up
    });
  });
});

describe('floors after major collections', () => {
  const points = (counts: number[], heaps: number[]) =>
    counts.map((majorGcCount, i) => ({ t: i * 2, y: heaps[i]!, majorGcCount }));

  it('leaves out the samples before the first major collection and takes each epoch’s lowest', () => {
    const { floors, majorGcs } = majorGcFloors(
      points([5, 5, 6, 6, 6, 8, 8], [40, 41, 30, 29, 33, 31, 32]),
      5,
    );
    expect(floors).toEqual([
      [6, 29],
      [10, 31],
    ]);
    expect(majorGcs).toBe(3);
  });

  it('opens the first epoch at the first sample when a collection came just before the window', () => {
    const { floors } = majorGcFloors(points([6, 6, 7], [30, 31, 29]), 5);
    expect(floors).toEqual([
      [0, 30],
      [4, 29],
    ]);
  });
});
