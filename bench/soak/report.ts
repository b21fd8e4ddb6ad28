import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeakResult } from './load.js';
import type { HubSample } from './sampling.js';
import { type EventCounts, MIN_HEAP_FLOORS, type TimedWindow, type Trend, type Verdict } from './verdict.js';

export interface SoakReport {
  startedAt: string;
  minutes: number;
  peak: PeakResult;
  soakRate: number;
  /** Requests answered over the paced run's length: below soakRate when the machine could not keep up. */
  achievedRate: number;
  requests: number;
  events: EventCounts & { publishRetries: number; webhookRefusals: number };
  tokenRefreshFailures: number;
  redisUsedBytes: { start: number | null; end: number | null };
  queueDepthMax: number;
  verdict: Verdict;
  windows: TimedWindow[];
  samples: HubSample[];
}

const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const table = (header: string[], rows: string[][]) =>
  [header, header.map(() => '---'), ...rows].map((l) => `| ${l.join(' | ')} |`).join('\n');

/** A heap's slope ± margin and what it was fitted through, or why it was not judged. */
function heapSlope(t: Trend): string {
  if (!t.judged) {
    const n = t.majorGcs ?? 0;
    return `not judged (${n} major GC${n === 1 ? '' : 's'})`;
  }
  const floors = t.basis === 'major-gc floors' ? 'floors' : 'minute floors';
  return `${mib(t.slopeBytesPerHour)} ± ${mib(t.slopeMarginBytesPerHour)} (${t.floors} ${floors})${t.isLeak ? ' ✗' : ''}`;
}

/** The run's figures as Markdown: what docs/soak.md quotes. */
export function renderSummary(r: SoakReport): string {
  const v = r.verdict;
  const errors =
    Object.entries(v.errors)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || 'none';
  const overview = table(
    ['figure', 'value'],
    [
      ['started', r.startedAt],
      [
        'duration',
        `${r.minutes} min at the soak rate (warm-up ${Math.round(v.warmupSeconds)} s left out of trends)`,
      ],
      ['peak (closed loop, 50 connections)', `${Math.round(r.peak.rps)} req/s`],
      ['soak rate (50 % of peak)', `${r.soakRate} req/s asked, ${Math.round(r.achievedRate)} req/s achieved`],
      ['gateway requests', String(r.requests)],
      ['answers other than 200', errors],
      [
        'events published (202) / attempts',
        `${r.events.published} / ${r.events.attempts} (${r.events.publishRetries} retried)`,
      ],
      [
        'events delivered / lost / duplicated',
        `${r.events.delivered} / ${r.events.lost} / ${r.events.duplicated}`,
      ],
      ['gateway latency p50, first → last', `${ms(v.latency.firstP50)} → ${ms(v.latency.lastP50)} ms`],
      ['gateway latency p99, first → last', `${ms(v.latency.firstP99)} → ${ms(v.latency.lastP99)} ms`],
      [
        'Redis used_memory, start → end',
        `${r.redisUsedBytes.start === null ? '—' : mib(r.redisUsedBytes.start)} → ${r.redisUsedBytes.end === null ? '—' : mib(r.redisUsedBytes.end)} MiB`,
      ],
      ['broker queue depth, max', String(r.queueDepthMax)],
      [
        'verdict',
        `${v.failures.length ? `FAIL: ${v.failures.join('; ')}` : 'PASS'}${v.notes.length ? ` (${v.notes.join('; ')})` : ''}`,
      ],
    ],
  );
  const services = [...new Set(v.trends.map((t) => t.service))];
  const perService = table(
    [
      'service',
      'heap start → end (MiB)',
      'heap slope (MiB/h)',
      'RSS start → end (MiB)',
      'RSS slope (MiB/h)',
      'event-loop p99 median / max (ms)',
    ],
    services.map((service) => {
      const heap = v.trends.find((t) => t.service === service && t.metric === 'heap')!;
      const rss = v.trends.find((t) => t.service === service && t.metric === 'rss')!;
      const loop = v.eventLoopP99Ms[service]!;
      return [
        service,
        `${mib(heap.startBytes)} → ${mib(heap.endBytes)}`,
        heapSlope(heap),
        `${mib(rss.startBytes)} → ${mib(rss.endBytes)}`,
        `${mib(rss.slopeBytesPerHour)} ± ${mib(rss.slopeMarginBytesPerHour)}${rss.isLeak ? ' ✗' : ''}`,
        `${ms(loop.median)} / ${ms(loop.max)}`,
      ];
    }),
  );
  return (
    `${overview}\n\nPer service, after warm-up: heap slopes fitted to the lowest sample after each major ` +
    `collection (post-major-GC floors; not judged with fewer than ${MIN_HEAP_FLOORS}), RSS slopes to each ` +
    `minute's lowest sample, ± their 95 % margin:\n\n${perService}\n`
  );
}

/** soak-report.json (every window and sample) and soak-report.md (the summary) in `dir`. */
export function writeReport(dir: string, r: SoakReport): { json: string; markdown: string } {
  const json = join(dir, 'soak-report.json');
  const markdown = join(dir, 'soak-report.md');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(markdown, `# Soak run ${r.startedAt}\n\n${renderSummary(r)}`);
  return { json, markdown };
}
