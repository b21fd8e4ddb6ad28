/**
 * Every Redis key and channel the gateway core uses, built in one place (BullMQ's
 * queue-keys model). The channel is the registry's: both read SPL_REDIS_PREFIX.
 */
export interface GatewayRedisKeys {
  /** Pub/sub channel on which the registry announces a new snapshot. */
  snapshotChannel: string;
  /**
   * Stream of per-minute usage records (usage/usage-aggregator.ts). The registry reads the
   * same key: keep in step with `usageStream` in services/registry/src/redis-keys.ts.
   */
  usageStream: string;
}

export function createRedisKeys(prefix: string): GatewayRedisKeys {
  return { snapshotChannel: `${prefix}:snapshot:changed`, usageStream: `${prefix}:usage:stream` };
}
