/**
 * Every Redis key and channel the registry uses, built in one place (BullMQ's queue-keys
 * model): a hub prefix, a name, and a hash tag where keys must share a Cluster slot.
 */
export interface RedisKeys {
  /** Pub/sub channel on which a new snapshot version is announced. */
  snapshotChannel: string;
  /** Failed client authentications of one client id in the current window. */
  authFailures(clientId: string): string;
  /**
   * Stream of per-minute usage records the gateways write (usage/usage-ingester.ts reads
   * it). The gateway builds the same key: keep in step with `usageStream` in
   * services/gateway/src/redis-keys.ts.
   */
  usageStream: string;
  /** The SLA prober's lease: which registry instance probes (sla/probe-lease.ts). */
  probeLease: string;
  /** When the last probe round started, ms since the epoch, so a new leader keeps the pace. */
  probeRound: string;
}

export function createRedisKeys(prefix: string): RedisKeys {
  return {
    snapshotChannel: `${prefix}:snapshot:changed`,
    authFailures: (clientId) => `${prefix}:auth-failures:{${clientId}}`,
    usageStream: `${prefix}:usage:stream`,
    probeLease: `${prefix}:sla:probe-lease`,
    probeRound: `${prefix}:sla:probe-round`,
  };
}
