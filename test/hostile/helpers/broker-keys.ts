import type { TestBroker } from '../../../services/broker/test/helpers/test-broker.js';

/**
 * How many Redis keys the broker holds under its prefix, rate-limit and metric keys left out:
 * it grows when an event is accepted (its job, its duplicate-window key), so a refused
 * request that changes it stored something.
 */
export async function countEventKeys(broker: TestBroker): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await broker.redis.scan(cursor, 'MATCH', `${broker.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    n += keys.filter((k) => !/rate|limit|metric/.test(k)).length;
  } while (cursor !== '0');
  return n;
}
