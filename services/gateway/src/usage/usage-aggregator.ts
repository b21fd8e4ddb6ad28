import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import {
  STATUS_CLASSES,
  type StatusClass,
  USAGE_LATENCY_BUCKETS_MS,
  USAGE_STREAM_FIELD,
  type UsageRecordJson,
} from './usage-record.js';

/**
 * Usage records (issue 3, point 11): per process, per minute, per (API version,
 * application, issuer, status class) a count, bytes in and out and a fixed-bucket latency
 * histogram, flushed to a Redis stream once the minute has closed.
 *
 * Exactness rests on the record id: sha256(instanceId, minute, key). An instance id is
 * new for every process start, and a minute is flushed once it is closed, so an id names
 * one final aggregate. A retried XADD whose first reply was lost, or an entry delivered
 * twice to the registry, carries the same id, and the registry inserts it once.
 *
 *   request ─► current minute (nested Maps, increments only)
 *                 │ minute changes / close()
 *                 ▼
 *              closed tables ─► flush(): records + ids ─► pending ─► XADD (pipeline)
 *                                                          ▲  failure: kept, retried;
 *                                                          └─ over maxPending: oldest dropped
 */

/** What the onResponse hook knows about one proxied request. */
export interface UsageRoute {
  readonly id: string;
  readonly org: string;
  readonly api: string;
  readonly version: string;
}

export interface UsageAggregatorOptions {
  redis: Redis;
  /** The stream key: `createRedisKeys(prefix).usageStream`. */
  stream: string;
  /** Unique per process start; defaults to host, pid and a random UUID. */
  instanceId?: string;
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  /** How often closed minutes are written to the stream (5–10 s). Default 5 s; 0 = never on a timer. */
  flushIntervalMs?: number;
  /** Records kept while Redis is unreachable; the oldest are dropped beyond it. Default 100,000. */
  maxPending?: number;
  /** Entries per XADD pipeline. Default 500. */
  batchSize?: number;
  /** Called when a flush fails (Redis down); the records stay pending. */
  onError?: (err: unknown) => void;
}

export interface UsageAggregatorStats {
  /** Records waiting for a successful XADD. */
  pending: number;
  /** Records dropped because pending was full (each a lost aggregate: alert on it). */
  dropped: number;
  /** Records written to the stream since start. */
  written: number;
}

export interface UsageAggregator {
  readonly instanceId: string;
  /** The hot path: one Map walk and a few increments. */
  record(
    route: UsageRoute,
    applicationId: string | null,
    issuer: string | null,
    status: number,
    bytesIn: number,
    bytesOut: number,
    durationMs: number,
  ): void;
  /** Writes every closed minute to the stream; rejects (records kept) when Redis fails. */
  flush(): Promise<void>;
  stats(): UsageAggregatorStats;
  /**
   * Stops the timer and flushes everything, the open minute included. Call it after the
   * HTTP server has drained: requests recorded afterwards are ignored, since a second
   * aggregate of a flushed minute would reuse its record id. Safe to call twice.
   */
  close(): Promise<void>;
}

const BUCKETS = USAGE_LATENCY_BUCKETS_MS.length + 1;
const MINUTE_MS = 60_000;

interface Aggregate {
  count: number;
  bytesIn: number;
  bytesOut: number;
  latency: number[];
}

/** One API version's aggregates: application → issuer → status class index → aggregate. */
interface RouteTable {
  route: UsageRoute;
  applications: Map<string, Map<string, Array<Aggregate | undefined>>>;
}

interface MinuteTable {
  minute: number;
  routes: Map<string, RouteTable>;
}

export class UsageAggregatorOptionsError extends Error {
  override name = 'UsageAggregatorOptionsError';
}

function statusClassIndex(status: number): number {
  const i = Math.floor(status / 100) - 1;
  return Math.min(Math.max(i, 0), 4);
}

function latencyBucket(ms: number): number {
  for (let i = 0; i < USAGE_LATENCY_BUCKETS_MS.length; i++) if (ms <= USAGE_LATENCY_BUCKETS_MS[i]!) return i;
  return BUCKETS - 1;
}

/** The id of one aggregate; the registry's UNIQUE (record_id) makes a duplicate a no-op. */
export function usageRecordId(instanceId: string, minute: string, key: string): string {
  return createHash('sha256').update(`${instanceId}\n${minute}\n${key}`).digest('hex');
}

export function createUsageAggregator(options: UsageAggregatorOptions): UsageAggregator {
  const now = options.now ?? Date.now;
  const flushIntervalMs = options.flushIntervalMs ?? 5_000;
  const maxPending = options.maxPending ?? 100_000;
  const batchSize = options.batchSize ?? 500;
  if (!options.stream) throw new UsageAggregatorOptionsError('stream is required');
  if (!(maxPending > 0)) throw new UsageAggregatorOptionsError('maxPending must be positive');
  if (!(batchSize > 0)) throw new UsageAggregatorOptionsError('batchSize must be positive');
  if (flushIntervalMs < 0) throw new UsageAggregatorOptionsError('flushIntervalMs must be 0 or more');
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomUUID()}`;

  const newTable = (minute: number): MinuteTable => ({ minute, routes: new Map() });
  let current = newTable(Math.floor(now() / MINUTE_MS) * MINUTE_MS);
  const closed: MinuteTable[] = [];
  // Oldest first. Records are plain objects; the JSON is built once when first written.
  let pending: UsageRecordJson[] = [];
  let dropped = 0;
  let written = 0;
  let flushing: Promise<void> | null = null;
  let isClosed = false;

  const rotateIfDue = (t: number) => {
    if (t - current.minute < MINUTE_MS) return;
    if (current.routes.size > 0) closed.push(current);
    current = newTable(Math.floor(t / MINUTE_MS) * MINUTE_MS);
  };

  const toRecords = (table: MinuteTable): UsageRecordJson[] => {
    const minute = new Date(table.minute).toISOString();
    const out: UsageRecordJson[] = [];
    for (const { route, applications } of table.routes.values()) {
      for (const [applicationId, issuers] of applications) {
        for (const [issuer, classes] of issuers) {
          for (let c = 0; c < classes.length; c++) {
            const agg = classes[c];
            if (!agg) continue;
            const statusClass: StatusClass = STATUS_CLASSES[c]!;
            const key = `${route.id}|${route.org}/${route.api}/${route.version}|${applicationId}|${issuer}|${statusClass}`;
            out.push({
              v: 1,
              recordId: usageRecordId(instanceId, minute, key),
              instanceId,
              minute,
              routeId: route.id,
              org: route.org,
              api: route.api,
              version: route.version,
              applicationId,
              issuer,
              statusClass,
              count: agg.count,
              bytesIn: agg.bytesIn,
              bytesOut: agg.bytesOut,
              latency: agg.latency,
            });
          }
        }
      }
    }
    return out;
  };

  const enqueue = (records: UsageRecordJson[]) => {
    for (const r of records) pending.push(r);
    const over = pending.length - maxPending;
    if (over > 0) {
      pending = pending.slice(over);
      dropped += over;
    }
  };

  /** XADDs one batch in a pipeline; entries are independent, so only the failed ones return. */
  const writeBatch = async (batch: UsageRecordJson[]) => {
    const pipeline = options.redis.pipeline();
    for (const r of batch) pipeline.xadd(options.stream, '*', USAGE_STREAM_FIELD, JSON.stringify(r));
    let results: Array<[Error | null, unknown]>;
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (err) {
      return { failed: batch, error: err };
    }
    const failed: UsageRecordJson[] = [];
    let error: unknown;
    batch.forEach((r, i) => {
      const err = results[i] ? results[i][0] : new Error('no reply to XADD');
      if (err) {
        failed.push(r);
        error ??= err;
      }
    });
    return { failed, error };
  };

  const doFlush = async (includeCurrent: boolean) => {
    rotateIfDue(now());
    if (includeCurrent && current.routes.size > 0) {
      closed.push(current);
      current = newTable(current.minute);
    }
    while (closed.length) enqueue(toRecords(closed.shift()!));
    while (pending.length) {
      const batch = pending.slice(0, batchSize);
      pending = pending.slice(batch.length);
      const { failed, error } = await writeBatch(batch);
      written += batch.length - failed.length;
      if (failed.length) {
        // Back in front, in order, for the next flush; a record written twice is a no-op later.
        pending = [...failed, ...pending];
        throw error;
      }
    }
  };

  const flush = (includeCurrent = false): Promise<void> => {
    // One flush at a time; a caller arriving during one waits for it, then runs its own.
    const run = async (): Promise<void> => {
      while (flushing) await flushing.catch(() => {});
      const p = doFlush(includeCurrent);
      flushing = p;
      try {
        await p;
      } finally {
        if (flushing === p) flushing = null;
      }
    };
    return run();
  };

  const timer =
    flushIntervalMs > 0
      ? setInterval(() => {
          flush().catch((err) => options.onError?.(err));
        }, flushIntervalMs)
      : null;
  timer?.unref();

  return {
    instanceId,
    record(route, applicationId, issuer, status, bytesIn, bytesOut, durationMs) {
      if (isClosed) return;
      const t = now();
      if (t - current.minute >= MINUTE_MS) rotateIfDue(t);
      let routeTable = current.routes.get(route.id);
      if (!routeTable) {
        routeTable = { route, applications: new Map() };
        current.routes.set(route.id, routeTable);
      }
      const app = applicationId ?? '';
      let issuers = routeTable.applications.get(app);
      if (!issuers) {
        issuers = new Map();
        routeTable.applications.set(app, issuers);
      }
      const iss = issuer ?? '';
      let classes = issuers.get(iss);
      if (!classes) {
        classes = [undefined, undefined, undefined, undefined, undefined];
        issuers.set(iss, classes);
      }
      const c = statusClassIndex(status);
      let agg = classes[c];
      if (!agg) {
        agg = { count: 0, bytesIn: 0, bytesOut: 0, latency: new Array<number>(BUCKETS).fill(0) };
        classes[c] = agg;
      }
      agg.count++;
      agg.bytesIn += Math.max(bytesIn, 0);
      agg.bytesOut += Math.max(bytesOut, 0);
      agg.latency[latencyBucket(durationMs)]!++;
    },
    flush: () => flush(false),
    stats: () => ({ pending: pending.length, dropped, written }),
    async close() {
      if (isClosed) return;
      isClosed = true;
      if (timer) clearInterval(timer);
      await flush(true);
    },
  };
}
