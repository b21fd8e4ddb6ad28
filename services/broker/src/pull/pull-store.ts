import type { Redis } from 'ioredis';
import type { EventJobData } from '../events/event-job.js';
import type { BrokerRedisKeys } from '../redis-keys.js';

/**
 * A pull subscription's events in Redis:
 *
 *   stream  (XADD by the worker)  1-0  2-0  3-0  4-0  5-0
 *                                  └ leased ┘     ▲ cursor: last id handed out the first time
 *   leases  (ZSET id → lease expiry ms)
 *
 * A pull hands out expired leases first (redelivery), then events after the cursor; an ack
 * removes the lease and the entry; a nack expires the lease now. Stream ids are the ack ids.
 */
const LEASE_SCRIPT = `
--[[ Leases up to ARGV[1] events.
  KEYS[1] stream, KEYS[2] leases, KEYS[3] cursor
  ARGV[1] max, ARGV[2] now (ms), ARGV[3] lease expiry (ms)
  Returns id, event, id, event, … (event: the stored job JSON) ]]
local max = tonumber(ARGV[1])
local out = {}
local n = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, max)
for _, id in ipairs(expired) do
  local entry = redis.call('XRANGE', KEYS[1], id, id)
  if entry[1] then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = entry[1][2][2]
    n = n + 1
  else
    redis.call('ZREM', KEYS[2], id) -- trimmed away by MAXLEN
  end
end
if n < max then
  local cursor = redis.call('GET', KEYS[3]) or '0-0'
  local entries = redis.call('XRANGE', KEYS[1], '(' .. cursor, '+', 'COUNT', max - n)
  for _, e in ipairs(entries) do
    redis.call('ZADD', KEYS[2], ARGV[3], e[1])
    out[#out + 1] = e[1]
    out[#out + 1] = e[2][2]
  end
  if #entries > 0 then redis.call('SET', KEYS[3], entries[#entries][1]) end
end
return out
`;

const ACK_SCRIPT = `
--[[ Acknowledges leased ids: the lease and the entry go.
  KEYS[1] stream, KEYS[2] leases; ARGV ids. Returns how many were leased. ]]
local n = 0
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[2], id) == 1 then
    redis.call('XDEL', KEYS[1], id)
    n = n + 1
  end
end
return n
`;

export interface PulledEvent {
  ackId: string;
  data: EventJobData;
}

export interface PullStore {
  store(subscriptionId: string, data: EventJobData): Promise<unknown>;
  lease(subscriptionId: string, max: number, leaseMs: number): Promise<PulledEvent[]>;
  ack(subscriptionId: string, ackIds: string[]): Promise<number>;
  /** Makes leased ids available again now; returns how many were leased. */
  nack(subscriptionId: string, ackIds: string[]): Promise<number>;
}

const STREAM_ID = /^\d+-\d+$/;

export function createPullStore(input: {
  redis: Redis;
  keys: BrokerRedisKeys;
  maxPerSubscription: number;
  now?: () => number;
}): PullStore {
  const { redis, keys } = input;
  const now = input.now ?? Date.now;
  const ids = (list: string[]) => list.filter((id) => STREAM_ID.test(id));
  return {
    store(id, data) {
      return redis.xadd(
        keys.pullStream(id),
        'MAXLEN',
        '~',
        input.maxPerSubscription,
        '*',
        'j',
        JSON.stringify(data),
      );
    },
    async lease(id, max, leaseMs) {
      const t = now();
      const flat = (await redis.eval(
        LEASE_SCRIPT,
        3,
        keys.pullStream(id),
        keys.pullLeases(id),
        keys.pullCursor(id),
        max,
        t,
        t + leaseMs,
      )) as string[];
      const out: PulledEvent[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        out.push({ ackId: flat[i]!, data: JSON.parse(flat[i + 1]!) as EventJobData });
      return out;
    },
    async ack(id, ackIds) {
      const valid = ids(ackIds);
      if (!valid.length) return 0;
      return Number(await redis.eval(ACK_SCRIPT, 2, keys.pullStream(id), keys.pullLeases(id), ...valid));
    },
    async nack(id, ackIds) {
      const valid = ids(ackIds);
      if (!valid.length) return 0;
      const args: (string | number)[] = [];
      for (const a of valid) args.push(0, a);
      return Number(await redis.zadd(keys.pullLeases(id), 'XX', 'CH', ...args));
    },
  };
}
