import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Database } from '../store/database.js';
import { insertUsageRecords } from './insert-usage-records.js';
import { parseUsageEntry, type UsageRecordJson } from './usage-record.js';

/**
 * Moves the gateways' usage records from the Redis stream into `usage_minutes`, exactly
 * once (issue 3, point 11):
 *
 *   XREADGROUP (new) / XAUTOCLAIM (idle, of a dead consumer) ─► entries
 *     ─► BEGIN; INSERT … ON CONFLICT (record_id) DO NOTHING; COMMIT
 *     ─► XACK + XDEL
 *
 * A crash after COMMIT and before XACK leaves the entries pending; another consumer (or
 * this one, restarted) claims them once idle and the insert is a no-op. A database failure
 * leaves them pending too, to be claimed again after `claimIdleMs`. Every registry instance
 * runs one consumer of the same group, so instances share the work.
 *
 * The stream is this group's work queue: acknowledged entries are deleted (XDEL) so it
 * does not grow. A second reader of the stream would need its own stream, not a group here.
 */

export interface UsageIngesterOptions {
  db: Database;
  /** The shared connection; the ingester opens its own for the blocking read. */
  redis: Redis;
  /** `createRedisKeys(prefix).usageStream`. */
  stream: string;
  /** Consumer group name. Default `registry`. */
  group?: string;
  /** This consumer's name; unique per process start by default. */
  consumer?: string;
  /** Entries per read and per transaction. Default 200. */
  batchSize?: number;
  /** How long XREADGROUP blocks, ms. Default 2,000 (also the longest stop() waits for a read). */
  blockMs?: number;
  /** Pending entries idle this long are claimed from their consumer, ms. Default 30,000. */
  claimIdleMs?: number;
  /** How often pending entries are looked for, ms. Default 10,000. */
  claimIntervalMs?: number;
  /** Pause after a failure (Redis or database), ms. Default 1,000. */
  retryDelayMs?: number;
  onError?: (err: unknown, what: string) => void;
}

export interface UsageIngesterStats {
  /** Records inserted (new). */
  inserted: number;
  /** Records already stored: a redelivered entry or a re-sent record. */
  duplicates: number;
  /** Entries that were not a valid record; acknowledged and dropped. */
  rejected: number;
}

export interface UsageIngester {
  /** Starts consuming in the background; Redis being down is retried, not thrown. */
  start(): Promise<void>;
  /** Stops after the batch in hand is stored and acknowledged. Safe to call twice. */
  stop(): Promise<void>;
  stats(): UsageIngesterStats;
}

type StreamEntry = [id: string, fields: string[]];

export class UsageIngesterOptionsError extends Error {
  override name = 'UsageIngesterOptionsError';
}

export function createUsageIngester(options: UsageIngesterOptions): UsageIngester {
  const group = options.group ?? 'registry';
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID()}`;
  const batchSize = options.batchSize ?? 200;
  const blockMs = options.blockMs ?? 2_000;
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const claimIntervalMs = options.claimIntervalMs ?? 10_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  if (!options.stream) throw new UsageIngesterOptionsError('stream is required');
  if (!(batchSize > 0)) throw new UsageIngesterOptionsError('batchSize must be positive');
  if (!(blockMs > 0)) throw new UsageIngesterOptionsError('blockMs must be positive');
  const { db, redis, stream } = options;

  const stats: UsageIngesterStats = { inserted: 0, duplicates: 0, rejected: 0 };
  let reader: Redis | null = null;
  let loop: Promise<void> | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const ensureGroup = async () => {
    try {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  };

  /** Stores the entries' records, then acknowledges them: in that order, always. */
  const ingest = async (entries: StreamEntry[]) => {
    if (entries.length === 0) return;
    const records: UsageRecordJson[] = [];
    for (const [id, fields] of entries) {
      const record = parseUsageEntry(fields);
      if (record) records.push(record);
      else {
        stats.rejected++;
        options.onError?.(new Error(`usage stream entry ${id} is not a usage record`), 'parse');
      }
    }
    if (records.length) {
      const inserted = await db.transaction((tx) => insertUsageRecords(tx, records));
      stats.inserted += inserted;
      stats.duplicates += records.length - inserted;
    }
    const ids = entries.map(([id]) => id);
    await redis
      .multi()
      .xack(stream, group, ...ids)
      .xdel(stream, ...ids)
      .exec();
  };

  /** Claims entries idle longer than claimIdleMs (a dead consumer's, or our own after a failure). */
  const claimIdle = async () => {
    let cursor = '0-0';
    do {
      const reply = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        batchSize,
      )) as [string, Array<StreamEntry | null>, string[]?];
      cursor = reply[0];
      // Entries deleted from the stream while pending come back as null (Redis 6.2) or
      // in the third element (7.0); either way there is nothing left to store.
      const entries = reply[1].filter((e): e is StreamEntry => e !== null && Array.isArray(e[1]));
      await ingest(entries);
      if (reply[2]?.length) await redis.xack(stream, group, ...reply[2]);
    } while (cursor !== '0-0' && !stopping);
  };

  const run = async () => {
    let lastClaim = 0;
    let hasGroup = false;
    while (!stopping) {
      try {
        if (!hasGroup) {
          await ensureGroup();
          hasGroup = true;
        }
        if (Date.now() - lastClaim >= claimIntervalMs) {
          lastClaim = Date.now();
          await claimIdle();
          continue;
        }
        const reply = (await reader!.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          batchSize,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        )) as Array<[string, StreamEntry[]]> | null;
        if (stopping && !reply) break;
        await ingest(reply?.[0]?.[1] ?? []);
      } catch (err) {
        if (stopping) break;
        // A deleted stream or group (Redis flushed): create it again and carry on.
        if (String((err as Error).message).includes('NOGROUP')) hasGroup = false;
        options.onError?.(err, 'ingest');
        await sleep(retryDelayMs);
      }
    }
  };

  return {
    async start() {
      if (loop || stopping) return;
      reader = redis.duplicate();
      reader.on('error', () => {}); // ioredis reconnects; failures surface in run()
      loop = run();
    },
    async stop() {
      if (stopping) return loop ?? undefined;
      stopping = true;
      wake?.();
      // Ends a blocked XREADGROUP now; a batch being stored completes on the shared
      // connection first, so nothing is stored without being acknowledged by design.
      reader?.disconnect();
      await loop;
    },
    stats: () => ({ ...stats }),
  };
}
