import { Redis } from 'ioredis';

/** One scrape of one service's /metrics (prom-client default metrics, docs/operations.md). */
export interface ProcessSample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets its histogram each collect). */
  eventLoopP99Ms: number;
  /** Deliver and retry queues, waiting + delayed (spl_broker_queue_depth), where the service exports it. */
  queueDepth: number | null;
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

export function parseProcessSample(text: string): ProcessSample {
  const one = (name: string) => seriesValues(text, name)[0] ?? Number.NaN;
  const depths = seriesValues(text, 'spl_broker_queue_depth');
  return {
    rssBytes: one('process_resident_memory_bytes'),
    heapUsedBytes: one('nodejs_heap_size_used_bytes'),
    eventLoopP99Ms: one('nodejs_eventloop_lag_p99_seconds') * 1000,
    queueDepth: depths.length ? depths.reduce((a, b) => a + b, 0) : null,
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
