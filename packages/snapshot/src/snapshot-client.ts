import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parseSnapshot, parseSnapshotNotice } from './parse-snapshot.js';
import type { Snapshot } from './snapshot-schema.js';

/** File in `dataDir` holding the last good snapshot, exactly as the registry sent it. */
export const SNAPSHOT_FILE = 'snapshot.json';

export type SnapshotSource = 'registry' | 'disk';

export interface SnapshotClientOptions {
  /** Base URL of the registry (SPL_REGISTRY_URL), without a trailing slash. */
  registryUrl: string;
  /**
   * A bearer token of a data-plane client (`POST /v1/dataplane-clients`). Called with
   * `forceRefresh: true` once after a 401, so a cached token can be replaced.
   */
  getToken: (options: { forceRefresh: boolean }) => Promise<string>;
  /**
   * A Redis connection. The client subscribes on its own duplicate of it, so this one stays
   * usable for commands. Without it the client only polls.
   */
  redis?: Redis;
  /** The registry's change channel (`<SPL_REDIS_PREFIX>:snapshot:changed`). */
  channel: string;
  /** Where the last good snapshot is kept (`snapshot.json`, mode 0600; the folder 0700). */
  dataDir: string;
  /**
   * Called with each new snapshot, after validation and before it is kept on disk: a
   * snapshot the data plane throws on is neither kept nor remembered as current.
   */
  onSnapshot: (snapshot: Snapshot, info: { source: SnapshotSource }) => void | Promise<void>;
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Poll with If-None-Match every this many milliseconds, as a fallback to Redis; default 30 000; 0 disables. */
  pollIntervalMs?: number;
  /** Timeout of one GET /v1/snapshot, milliseconds; default 10 000. */
  requestTimeoutMs?: number;
  /** Trouble that does not stop the client (registry or Redis down, a bad document). */
  onError?: (err: Error) => void;
}

export interface SnapshotClientStatus {
  /** Whether a snapshot is loaded: what the data planes' /readyz means. */
  isLoaded: boolean;
  source: SnapshotSource | null;
  version: number | null;
  etag: string | null;
  /** When the registry last answered 200 or 304 (ISO 8601). */
  lastContactAt: string | null;
  /** The last failure, cleared by the next successful contact. */
  lastError: string | null;
}

export interface SnapshotClient {
  /**
   * Loads the snapshot kept on disk, then asks the registry, subscribes to the change
   * channel and starts polling. Never rejects because the registry or Redis is down: it
   * reports through `onError` and `status()`, and keeps running from disk.
   */
  start(): Promise<void>;
  /** Asks the registry now (single-flight); 'updated' when a new snapshot was taken. */
  refresh(): Promise<'updated' | 'unchanged'>;
  current(): Snapshot | null;
  status(): SnapshotClientStatus;
  /** Stops polling and unsubscribes; safe to call twice. */
  close(): Promise<void>;
}

export class SnapshotClientError extends Error {
  override name = 'SnapshotClientError';
}

export function createSnapshotClient(options: SnapshotClientOptions): SnapshotClient {
  if (!/^https?:\/\//.test(options.registryUrl))
    throw new SnapshotClientError(
      `registryUrl must be an http(s) URL, got ${JSON.stringify(options.registryUrl)}`,
    );
  if (!options.channel) throw new SnapshotClientError('channel is required');
  if (!options.dataDir) throw new SnapshotClientError('dataDir is required');
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${options.registryUrl.replace(/\/+$/, '')}/v1/snapshot`;
  const file = join(options.dataDir, SNAPSHOT_FILE);

  let current: Snapshot | null = null;
  let source: SnapshotSource | null = null;
  let lastContactAt: string | null = null;
  let lastError: string | null = null;
  let inflight: Promise<'updated' | 'unchanged'> | null = null;
  let isAgainWanted = false;
  let timer: NodeJS.Timeout | undefined;
  let subscriber: Redis | undefined;
  let isClosed = false;

  const report = (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    lastError = error.message;
    options.onError?.(error);
  };

  async function take(snapshot: Snapshot, from: SnapshotSource): Promise<void> {
    await options.onSnapshot(snapshot, { source: from });
    current = snapshot;
    source = from;
  }

  async function keepOnDisk(text: string): Promise<void> {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    // Write aside and rename: a crash mid-write never leaves a torn snapshot behind.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async function loadFromDisk(): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report(err);
      return;
    }
    try {
      await take(parseSnapshot(text), 'disk');
    } catch (err) {
      report(new SnapshotClientError(`the snapshot kept in ${file} was not loaded`, { cause: err }));
    }
  }

  async function get(forceRefresh: boolean): Promise<Response> {
    const token = await options.getToken({ forceRefresh });
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (current) headers['if-none-match'] = `"${current.etag}"`;
    return doFetch(url, { headers, signal: AbortSignal.timeout(requestTimeoutMs) });
  }

  async function fetchOnce(): Promise<'updated' | 'unchanged'> {
    let res = await get(false);
    if (res.status === 401) {
      await res.body?.cancel();
      res = await get(true);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return 'unchanged';
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new SnapshotClientError(`GET ${url} answered ${res.status}`);
    }
    const text = await res.text();
    const snapshot = parseSnapshot(text);
    if (current && snapshot.etag === current.etag) return 'unchanged';
    // A registry instance that has not caught up yet; the next notice or poll brings the newer one.
    if (current && source === 'registry' && snapshot.version < current.version) return 'unchanged';
    await take(snapshot, 'registry');
    await keepOnDisk(text);
    return 'updated';
  }

  function refresh(): Promise<'updated' | 'unchanged'> {
    if (inflight) {
      // A change announced while a fetch runs may have missed it: fetch once more after.
      isAgainWanted = true;
      return inflight;
    }
    inflight = (async () => {
      let outcome: 'updated' | 'unchanged' = 'unchanged';
      try {
        do {
          isAgainWanted = false;
          if ((await fetchOnce()) === 'updated') outcome = 'updated';
          lastContactAt = new Date().toISOString();
          lastError = null;
        } while (isAgainWanted && !isClosed);
        return outcome;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  const refreshInBackground = () => {
    if (!isClosed) refresh().catch(report);
  };

  async function subscribe(redis: Redis): Promise<void> {
    subscriber = redis.duplicate();
    subscriber.on('error', report);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== options.channel) return;
      const notice = parseSnapshotNotice(message);
      if (!notice || notice.etag !== current?.etag) refreshInBackground();
    });
    // After a reconnect ioredis re-subscribes, but notices sent meanwhile are lost: ask once.
    let hasBeenReady = false;
    subscriber.on('ready', () => {
      if (hasBeenReady) refreshInBackground();
      hasBeenReady = true;
    });
    await subscriber.subscribe(options.channel);
  }

  return {
    async start() {
      await loadFromDisk();
      await refresh().catch(report);
      if (options.redis) await subscribe(options.redis).catch(report);
      if (pollIntervalMs > 0 && !isClosed) {
        timer = setInterval(refreshInBackground, pollIntervalMs);
        timer.unref();
      }
    },
    refresh,
    current: () => current,
    status: () => ({
      isLoaded: current !== null,
      source,
      version: current?.version ?? null,
      etag: current?.etag ?? null,
      lastContactAt,
      lastError,
    }),
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(timer);
      if (subscriber) {
        const sub = subscriber;
        subscriber = undefined;
        await sub.quit().catch(() => sub.disconnect());
      }
      await inflight?.catch(() => {});
    },
  };
}
