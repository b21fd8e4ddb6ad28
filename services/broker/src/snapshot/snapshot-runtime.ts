import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretBox } from '@spl/secret-box';
import {
  createRegistryTokenSource,
  createSnapshotClient,
  parseSnapshot,
  type Snapshot,
  type SnapshotClient,
} from '@spl/snapshot';
import type { FederatedVerifier } from '@spl/token';
import type { Redis } from 'ioredis';
import type { BrokerConfig } from '../config.js';
import { createRedisKeys } from '../redis-keys.js';
import { compileTopicTable, type TopicTable } from './topic-table.js';

export interface SnapshotStatus {
  isLoaded: boolean;
  source: 'registry' | 'disk' | 'file' | null;
  version: number | null;
  etag: string | null;
  loadedAt: string | null;
  lastContactAt: string | null;
  lastError: string | null;
}

/**
 * Holds the topic table in use and swaps in a new one when a snapshot arrives (registry
 * notice or poll, the copy on disk, or SPL_SNAPSHOT_FILE), as the gateway's runtime does.
 * A request or a delivery keeps the table it read at its start.
 */
export interface SnapshotRuntime {
  table(): TopicTable | null;
  /** Never rejects because the registry or Redis is down. */
  start(): Promise<void>;
  refresh(): Promise<void>;
  status(): SnapshotStatus;
  close(): Promise<void>;
}

export function createSnapshotRuntime(input: {
  config: BrokerConfig;
  /** `broker` for the publish API, `broker-worker` for the worker: each keeps its own copy. */
  dataSubdir: string;
  secretBox: SecretBox | null;
  /** Verifies trusted issuers' tokens; given each snapshot's issuers and applications. */
  federated?: FederatedVerifier | null;
  redis?: Redis | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  onTable?: (table: TopicTable) => void;
  onError: (err: Error) => void;
}): SnapshotRuntime {
  const { config } = input;
  let current: TopicTable | null = null;
  let source: SnapshotStatus['source'] = null;
  let fileError: string | null = null;

  const apply = (snapshot: Snapshot, from: 'registry' | 'disk' | 'file') => {
    input.federated?.update(snapshot.trustedIssuers, snapshot.applications);
    const table = compileTopicTable(snapshot, current, {
      issuer: config.publicUrl,
      audience: config.SPL_TOKEN_AUDIENCE,
      secretBox: input.secretBox,
      federated: input.federated ?? null,
    });
    current = table;
    source = from;
    input.onTable?.(table);
  };

  let client: SnapshotClient | null = null;
  if (!config.SPL_SNAPSHOT_FILE) {
    client = createSnapshotClient({
      registryUrl: config.registryUrl,
      getToken: createRegistryTokenSource({
        registryUrl: config.registryUrl,
        clientId: config.SPL_BROKER_CLIENT_ID!,
        clientSecret: config.SPL_BROKER_CLIENT_SECRET!,
        ...(input.fetch ? { fetch: input.fetch } : {}),
      }),
      ...(input.redis ? { redis: input.redis } : {}),
      channel: createRedisKeys(config.SPL_REDIS_PREFIX).snapshotChannel,
      dataDir: join(config.SPL_DATA_DIR, input.dataSubdir),
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
    /** Asks the registry now; offline, reads SPL_SNAPSHOT_FILE again. */
    async refresh() {
      if (client) await client.refresh();
      else apply(parseSnapshot(await readFile(config.SPL_SNAPSHOT_FILE!, 'utf8')), 'file');
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
