import type { Redis } from 'ioredis';

/**
 * Redis must not evict: an evicted job or stream entry is a lost event (issue 4 §5). Reads
 * `maxmemory-policy`; null when Redis does not answer (or forbids CONFIG, as managed Redis
 * services do — then the operator must check it).
 */
export async function readMaxmemoryPolicy(redis: Redis): Promise<string | null> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return reply[1] ?? null;
  } catch {
    return null;
  }
}
