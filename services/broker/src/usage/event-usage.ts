import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/**
 * The broker's usage records (issue 4 §6): per process, per minute, per (topic, application,
 * outcome) a count, bytes and a latency histogram, XADDed to the gateway's usage stream once
 * the minute has closed, for the registry's ingester.
 *
 * The record is the gateway's wire shape v1 (services/registry/src/usage/usage-record.ts),
 * extended compatibly: `routeId` is the topic id, `api` the topic slug, `version` is
 * `events`, `statusClass` stands for the outcome's class (2xx accepted or delivered, 4xx
 * refused, 5xx failed), and two optional members of the shared shape — `kind: "event"` and
 * `outcome` — say what it is (services/registry/src/usage/usage-record.ts lists them). The record id is unique per process start,
 * minute and key, so a re-sent entry is inserted once.
 */
export const EVENT_USAGE_VERSION = 'events';
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;
const MINUTE_MS = 60_000;

export type EventUsageOutcome =
  | 'accepted'
  | 'duplicate'
  | 'refused'
  | 'unavailable'
  | 'delivered'
  | 'failed'
  | 'dead-lettered';

const STATUS_CLASS: Record<EventUsageOutcome, '2xx' | '4xx' | '5xx'> = {
  accepted: '2xx',
  duplicate: '2xx',
  delivered: '2xx',
  refused: '4xx',
  unavailable: '5xx',
  failed: '5xx',
  'dead-lettered': '5xx',
};

export interface EventUsageTopic {
  id: string;
  org: string;
  topic: string;
}

export interface EventUsageRecordJson {
  v: 1;
  kind: 'event';
  recordId: string;
  instanceId: string;
  minute: string;
  routeId: string;
  org: string;
  api: string;
  version: string;
  applicationId: string;
  issuer: string;
  statusClass: '2xx' | '4xx' | '5xx';
  outcome: EventUsageOutcome;
  count: number;
  bytesIn: number;
  bytesOut: number;
  latency: number[];
}

export interface EventUsage {
  record(
    topic: EventUsageTopic,
    applicationId: string,
    outcome: EventUsageOutcome,
    bytes: number,
    ms: number,
  ): void;
  flush(): Promise<void>;
  /** Flushes everything, the open minute included; safe to call twice. */
  close(): Promise<void>;
}

interface Aggregate {
  topic: EventUsageTopic;
  applicationId: string;
  outcome: EventUsageOutcome;
  count: number;
  bytes: number;
  latency: number[];
}

export function createEventUsage(input: {
  redis: Redis;
  stream: string;
  instanceId?: string;
  now?: () => number;
  flushIntervalMs?: number;
  /** Records kept while Redis is away; the oldest are dropped beyond it. */
  maxPending?: number;
  onError?: (err: unknown) => void;
}): EventUsage {
  const now = input.now ?? Date.now;
  const instanceId = input.instanceId ?? `${hostname()}-${process.pid}-${randomUUID()}`;
  const maxPending = input.maxPending ?? 100_000;
  let minute = Math.floor(now() / MINUTE_MS) * MINUTE_MS;
  let current = new Map<string, Aggregate>();
  let pending: EventUsageRecordJson[] = [];
  let isClosed = false;

  const close_ = (table: Map<string, Aggregate>, at: number) => {
    const iso = new Date(at).toISOString();
    for (const [key, a] of table) {
      pending.push({
        v: 1,
        kind: 'event',
        recordId: createHash('sha256').update(`${instanceId}\n${iso}\n${key}`).digest('hex'),
        instanceId,
        minute: iso,
        routeId: a.topic.id,
        org: a.topic.org,
        api: a.topic.topic,
        version: EVENT_USAGE_VERSION,
        applicationId: a.applicationId,
        issuer: '',
        statusClass: STATUS_CLASS[a.outcome],
        outcome: a.outcome,
        count: a.count,
        bytesIn: a.bytes,
        bytesOut: 0,
        latency: a.latency,
      });
    }
    if (pending.length > maxPending) pending = pending.slice(pending.length - maxPending);
  };
  const rotate = (t: number) => {
    if (t - minute < MINUTE_MS) return;
    if (current.size) close_(current, minute);
    current = new Map();
    minute = Math.floor(t / MINUTE_MS) * MINUTE_MS;
  };

  const flush = async (includeCurrent = false) => {
    rotate(now());
    if (includeCurrent && current.size) {
      close_(current, minute);
      current = new Map();
    }
    while (pending.length) {
      const batch = pending.slice(0, 500);
      const pipeline = input.redis.pipeline();
      for (const r of batch) pipeline.xadd(input.stream, '*', 'record', JSON.stringify(r));
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('no reply to XADD');
      pending = pending.slice(batch.length);
    }
  };
  const timer = setInterval(
    () => flush().catch((err) => input.onError?.(err)),
    input.flushIntervalMs ?? 5_000,
  );
  timer.unref();

  return {
    record(topic, applicationId, outcome, bytes, ms) {
      if (isClosed) return;
      rotate(now());
      const key = `${topic.id}|${applicationId}|${outcome}`;
      let a = current.get(key);
      if (!a) {
        a = {
          topic,
          applicationId,
          outcome,
          count: 0,
          bytes: 0,
          latency: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
        };
        current.set(key, a);
      }
      a.count++;
      a.bytes += Math.max(bytes, 0);
      let i = 0;
      while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
      a.latency[i]!++;
    },
    flush: () => flush(false),
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(timer);
      await flush(true);
    },
  };
}
