import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRegistryTokenSource,
  createSnapshotClient,
  parseSnapshot,
  type Snapshot,
  type SnapshotClient,
} from '@spl/snapshot';
import type { Redis } from 'ioredis';
import type { Caller } from '../auth/caller.js';
import type { GatewayConfig } from '../config.js';
import type { GatewayObserver } from '../pipeline.js';
import { createRedisKeys } from '../redis-keys.js';
import { compileRouteTable, type RouteTable, type RouteTableDeps } from '../routing/route-table.js';

export interface SnapshotStatus {
  isLoaded: boolean;
  source: 'registry' | 'disk' | 'file' | null;
  version: number | null;
  etag: string | null;
  loadedAt: string | null;
  /** When the registry last answered (null when offline from SPL_SNAPSHOT_FILE). */
  lastContactAt: string | null;
  lastError: string | null;
}

/**
 * Holds the route table in use and replaces it when a snapshot arrives: from the registry
 * (notice on Redis, or ETag poll), from the copy kept on disk at start, or from
 * SPL_SNAPSHOT_FILE when started offline. The new table is compiled aside and swapped in
 * with one assignment; a request keeps the table it read at its start.
 */
export interface SnapshotRuntime {
  /** The table in use, or null until the first snapshot is loaded. */
  table(): RouteTable | null;
  /** Never rejects because the registry or Redis is down. */
  start(): Promise<void>;
  /** Asks the registry now; a no-op offline. */
  refresh(): Promise<void>;
  status(): SnapshotStatus;
  close(): Promise<void>;
}

export function createSnapshotRuntime(input: {
  config: GatewayConfig;
  redis?: Redis | undefined;
  tableDeps: RouteTableDeps;
  observer?: GatewayObserver | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  /** After each swap (the active health check follows the table's upstreams). */
  onTableApplied?: ((table: RouteTable) => void) | undefined;
  onError: (err: Error) => void;
}): SnapshotRuntime {
  const { config } = input;
  let current: RouteTable | null = null;
  let source: SnapshotStatus['source'] = null;
  let fileError: string | null = null;
  let client: SnapshotClient | null = null;

  /**
   * A hub token whose `kid` the snapshot's `hubKeys` lack (issue 3 §3): the registry may have
   * rotated its keys and its notice been missed. One refresh now, joined by every such token
   * while it runs, then the token is verified once more against the table in use. After
   * it, no other for SPL_HUB_KEY_REFRESH_SECONDS (those tokens get 401 at once), so tokens
   * with made-up `kid`s cost the registry at most one conditional GET per cool-down.
   */
  const coolDownMs = config.SPL_HUB_KEY_REFRESH_SECONDS * 1000;
  let keyRefreshEndedAt = Number.NEGATIVE_INFINITY;
  let keyRefresh: Promise<void> | null = null;
  const onUnknownHubKey = (token: string): Promise<Caller> | null => {
    if (!client) return null;
    if (!keyRefresh) {
      if (Date.now() - keyRefreshEndedAt < coolDownMs) return null;
      keyRefresh = client
        .refresh()
        .then(
          () => {},
          (err: Error) => input.onError(err),
        )
        .finally(() => {
          // From the end, so the second verification below never starts a refresh of its own.
          keyRefreshEndedAt = Date.now();
          keyRefresh = null;
        });
    }
    return keyRefresh.then(() => current!.authenticator.authenticate(token));
  };
  const tableDeps = { ...input.tableDeps, onUnknownHubKey };

  const apply = (snapshot: Snapshot, from: 'registry' | 'disk' | 'file') => {
    const table = compileRouteTable(snapshot, current, tableDeps);
    // Per-route metric children and log maskers are ready before a request can route with it.
    input.observer?.onSnapshotCompiled?.(snapshot);
    current = table; // the swap: one assignment
    source = from;
    input.tableDeps.pools.retainOnly(table.reuse.poolKeys);
    input.onTableApplied?.(table);
    input.observer?.onSnapshotApplied?.({
      version: table.version,
      etag: table.etag,
      source: from,
      ...table.stats,
    });
  };

  if (!config.SPL_SNAPSHOT_FILE) {
    client = createSnapshotClient({
      registryUrl: config.registryUrl,
      getToken: createRegistryTokenSource({
        registryUrl: config.registryUrl,
        clientId: config.SPL_GATEWAY_CLIENT_ID!,
        clientSecret: config.SPL_GATEWAY_CLIENT_SECRET!,
        ...(input.fetch ? { fetch: input.fetch } : {}),
      }),
      ...(input.redis ? { redis: input.redis } : {}),
      channel: createRedisKeys(config.SPL_REDIS_PREFIX).snapshotChannel,
      dataDir: join(config.SPL_DATA_DIR, 'gateway'),
      onSnapshot: (snapshot, info) => apply(snapshot, info.source),
      pollIntervalMs: config.SPL_SNAPSHOT_POLL_SECONDS * 1000,
      ...(input.fetch ? { fetch: input.fetch } : {}),
      onError: input.onError,
    });
  }

  return {
    table: () => current,
    async start() {
      if (client) return client.start();
      try {
        apply(parseSnapshot(await readFile(config.SPL_SNAPSHOT_FILE!, 'utf8')), 'file');
      } catch (err) {
        fileError = `SPL_SNAPSHOT_FILE was not loaded: ${(err as Error).message}`;
        input.onError(new Error(fileError, { cause: err }));
      }
    },
    async refresh() {
      if (client) await client.refresh();
    },
    status() {
      const s = client?.status();
      return {
        isLoaded: current !== null,
        source,
        version: current?.version ?? null,
        etag: current?.etag ?? null,
        loadedAt: current?.loadedAt ?? null,
        lastContactAt: s?.lastContactAt ?? null,
        lastError: s ? s.lastError : fileError,
      };
    },
    async close() {
      await client?.close();
    },
  };
}
