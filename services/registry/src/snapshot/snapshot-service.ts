import { Gauge, Histogram, type Registry } from '@spl/metrics';
import type { SnapshotNotice } from '@spl/snapshot';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';
import type { Database } from '../store/database.js';
import {
  type CompiledContent,
  compileSnapshotContent,
  createCompileCache,
  readHeadSeq,
  snapshotTextOf,
} from './compile-snapshot.js';

/** The snapshot as served: its JSON text, compiled once, and its identity. */
export interface ServedSnapshot {
  text: string;
  etag: string;
  version: number;
}

/**
 * Keeps the data planes' snapshot current: after a committed change it is recompiled
 * (debounced, single-flight) and, when its content changed, announced on Redis.
 */
export interface SnapshotService {
  /** Called after every committed mutation. */
  markChanged(): void;
  /**
   * The current snapshot. Compiles it when there is none yet, or when the audit head has
   * moved since the last compile (a change made through another registry instance), or
   * when a hub key in it has passed `not_after`.
   */
  current(): Promise<ServedSnapshot>;
  close(): Promise<void>;
}

export interface SnapshotServiceDeps {
  db: Database;
  redis: Redis;
  keys: RedisKeys;
  clock: () => Date;
  issuer: string;
  audience: string;
  /** The app's metrics registry; the snapshot's gauges and histogram register there. */
  metrics?: Registry;
  /** Quiet time after a change before compiling, milliseconds; default 50. */
  debounceMs?: number;
  /** A background compile or publish failed (the next change or GET tries again). */
  onError?: (err: Error, what: string) => void;
}

export function createSnapshotService(deps: SnapshotServiceDeps): SnapshotService {
  const debounceMs = deps.debounceMs ?? 50;
  const registers = deps.metrics ? [deps.metrics] : [];
  const versionGauge = new Gauge({
    name: 'spl_registry_snapshot_version',
    help: 'Version (audit head seq) of the snapshot this registry instance serves',
    registers,
  });
  const bytesGauge = new Gauge({
    name: 'spl_registry_snapshot_bytes',
    help: 'Size of the served snapshot JSON, bytes',
    registers,
  });
  const compileSeconds = new Histogram({
    name: 'spl_registry_snapshot_compile_seconds',
    help: 'Time to compile the data-plane snapshot from the store',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  const cache = createCompileCache();
  let served: (ServedSnapshot & { compiledAtSeq: number; staleAfter: Date | null }) | null = null;
  let compiling: Promise<ServedSnapshot> | null = null;
  let isAgainWanted = false;
  let timer: NodeJS.Timeout | undefined;
  let isClosed = false;

  const report = (err: unknown, what: string) =>
    deps.onError?.(err instanceof Error ? err : new Error(String(err)), what);

  async function compileOnce(): Promise<ServedSnapshot> {
    const stopTimer = compileSeconds.startTimer();
    const now = deps.clock();
    const compiled: CompiledContent = await compileSnapshotContent(deps.db, {
      issuer: deps.issuer,
      audience: deps.audience,
      now,
      cache,
    });
    const previous = served;
    if (previous && previous.etag === compiled.etag) {
      // Same content: keep serving the same bytes (same version), so data planes get 304.
      served = { ...previous, compiledAtSeq: compiled.headSeq, staleAfter: compiled.staleAfter };
      stopTimer();
      return served;
    }
    const text = snapshotTextOf(compiled, now);
    served = {
      text,
      etag: compiled.etag,
      version: compiled.headSeq,
      compiledAtSeq: compiled.headSeq,
      staleAfter: compiled.staleAfter,
    };
    stopTimer();
    versionGauge.set(served.version);
    bytesGauge.set(Buffer.byteLength(text));
    const notice: SnapshotNotice = { version: served.version, etag: served.etag };
    deps.redis
      .publish(deps.keys.snapshotChannel, JSON.stringify(notice))
      .catch((err) => report(err, 'publish'));
    return served;
  }

  /** Single-flight: callers during a compile share it; a change meanwhile compiles once more after. */
  function compile(): Promise<ServedSnapshot> {
    if (compiling) {
      isAgainWanted = true;
      return compiling;
    }
    compiling = (async () => {
      try {
        let out: ServedSnapshot;
        do {
          isAgainWanted = false;
          out = await compileOnce();
        } while (isAgainWanted && !isClosed);
        return out;
      } finally {
        compiling = null;
      }
    })();
    return compiling;
  }

  return {
    markChanged() {
      if (isClosed || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (!isClosed) compile().catch((err) => report(err, 'compile'));
      }, debounceMs);
      timer.unref();
    },
    async current() {
      // A compile in flight may have read the store before the caller's own change committed
      // (a debounced one from an earlier change): wait for it, then check the head as usual.
      if (compiling) await compiling.catch(() => {});
      if (!served) return compile();
      const isStale = served.staleAfter !== null && deps.clock() >= served.staleAfter;
      // One indexed lookup per GET: the cheap way to notice another instance's change.
      if (isStale || (await readHeadSeq(deps.db)) !== served.compiledAtSeq) return compile();
      return served;
    },
    async close() {
      isClosed = true;
      clearTimeout(timer);
      timer = undefined;
      await compiling?.catch(() => {});
    },
  };
}
