import { Redis } from 'ioredis';

/** One scrape of one service's /metrics (prom-client default metrics, docs/operations.md). */
export interface ProcessSample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets its histogram each collect). */
  eventLoopP99Ms: number;
  /** Deliver and retry queues, waiting + delayed (spl_broker_queue_depth), where the service exports it. */
  queueDepth: number | null;
  /**
   * Major (mark-sweep-compact) collections since the process started: prom-client's
   * `nodejs_gc_duration_seconds_count{kind="major"}`. The verdict splits the heap at each one,
   * since only a major collection brings the old generation back to its live set (scavenges
   * clear the young generation only). 0 while the histogram is exported but has seen no major
   * collection yet (a labelled histogram has no series before its first observation); NaN when
   * the service does not export it at all. One process's count: with SPL_GATEWAY_WORKERS > 1
   * the gateway's /metrics sums its workers', and the heap with it.
   */
  majorGcCount: number;
}

export interface HubSample {
  /** Seconds since the paced run began. */
  t: number;
  services: Record<string, ProcessSample | null>;
  redisUsedBytes: number | null;
}

/** The value of every series of `name` in a Prometheus text exposition, labels ignored. */
export function seriesValues(text: string, name: string): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

/**
 * The value of every series of `name` whose labels include all of `labels` (other labels, such
 * as the `service` default label, ignored). Label values may hold escaped quotes, commas and
 * braces, so the label set is read pair by pair rather than split.
 */
export function labelledSeriesValues(text: string, name: string, labels: Record<string, string>): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const found: Record<string, string> = {};
    let i = name.length + 1;
    while (i < line.length && line[i] !== '}') {
      const eq = line.indexOf('="', i);
      if (eq < 0) break;
      const key = line.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        value += line[j];
      }
      found[key] = value;
      i = line[j + 1] === ',' ? j + 2 : j + 1;
    }
    if (line[i] !== '}') continue; // malformed: no closing brace
    if (!Object.entries(labels).every(([k, v]) => found[k] === v)) continue;
    const value = Number(
      line
        .slice(i + 1)
        .trim()
        .split(/\s+/)[0],
    );
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

export function parseProcessSample(text: string): ProcessSample {
  const one = (name: string) => seriesValues(text, name)[0] ?? Number.NaN;
  const depths = seriesValues(text, 'spl_broker_queue_depth');
  return {
    rssBytes: one('process_resident_memory_bytes'),
    heapUsedBytes: one('nodejs_heap_size_used_bytes'),
    eventLoopP99Ms: one('nodejs_eventloop_lag_p99_seconds') * 1000,
    queueDepth: depths.length ? depths.reduce((a, b) => a + b, 0) : null,
    majorGcCount:
      labelledSeriesValues(text, 'nodejs_gc_duration_seconds_count', { kind: 'major' })[0] ??
      (/^# TYPE nodejs_gc_duration_seconds histogram$/m.test(text) ? 0 : Number.NaN),
  };
}

/** Scrapes each service's /metrics and Redis's INFO memory; a service that does not answer is `null`. */
export class HubSampler {
  private readonly redis: Redis;

  constructor(
    private readonly metricsUrls: Record<string, string>,
    redisUrl: string,
  ) {
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {});
  }

  async sample(t: number): Promise<HubSample> {
    const entries = await Promise.all(
      Object.entries(this.metricsUrls).map(async ([name, url]) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          return [name, res.ok ? parseProcessSample(await res.text()) : null] as const;
        } catch {
          return [name, null] as const;
        }
      }),
    );
    return { t, services: Object.fromEntries(entries), redisUsedBytes: await this.redisUsedBytes() };
  }

  private async redisUsedBytes(): Promise<number | null> {
    try {
      if (this.redis.status === 'wait') await this.redis.connect();
      const info = await this.redis.info('memory');
      const match = /^used_memory:(\d+)/m.exec(info);
      return match ? Number(match[1]) : null;
    } catch {
      return null;
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
