/**
 * Every Redis key the gateway's limits use, built in one place (BullMQ's queue-keys model):
 * the hub prefix, the name, and a `{hash tag}` around the limited key, so that the minute and
 * burst counters of one (application, API version) land in one Cluster slot and one EVALSHA can
 * touch both.
 */
export interface RateLimitKeys {
  /** Units leased in one fixed 60 s window; `window` is `floor(epochMs / 60_000)`. */
  minuteWindow(key: string, window: number): string;
  /** Units leased in one fixed 1 s window (the plan's `burst`); `second` is `floor(epochMs / 1000)`. */
  burstWindow(key: string, second: number): string;
}

export function createRateLimitKeys(prefix: string): RateLimitKeys {
  return {
    minuteWindow: (key, window) => `${prefix}:rate:{${key}}:m:${window}`,
    burstWindow: (key, second) => `${prefix}:rate:{${key}}:s:${second}`,
  };
}
