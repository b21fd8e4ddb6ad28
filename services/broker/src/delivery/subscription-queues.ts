import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RetryJobData } from '../events/event-job.js';
import type { BrokerRedisKeys } from '../redis-keys.js';

/**
 * The publish API's handle on the per-subscription retry queues: dead letters are the failed
 * jobs of `retry-<subscription>`; a replay adds jobs to it (the worker process runs them).
 */
export interface SubscriptionQueues {
  deadLetters(subscriptionId: string, limit: number): Promise<Job<RetryJobData>[]>;
  /** Moves up to `limit` dead letters back for delivery, attempts reset; returns how many. */
  replayDeadLetters(subscriptionId: string, limit: number): Promise<number>;
  enqueue(
    subscriptionId: string,
    jobId: string,
    data: RetryJobData,
    attempts: number,
    deadLetterMax: number,
  ): Promise<void>;
  close(): Promise<void>;
}

export function createSubscriptionQueues(input: {
  connection: Redis;
  keys: BrokerRedisKeys;
}): SubscriptionQueues {
  const queues = new Map<string, Queue<RetryJobData>>();
  const queue = (id: string) => {
    let q = queues.get(id);
    if (!q) {
      q = new Queue<RetryJobData>(input.keys.retryQueue(id), {
        connection: input.connection,
        prefix: input.keys.bullPrefix,
      });
      q.on('error', () => {});
      queues.set(id, q);
    }
    return q;
  };
  return {
    deadLetters: (id, limit) => queue(id).getFailed(0, limit - 1),
    async replayDeadLetters(id, limit) {
      const jobs = await queue(id).getFailed(0, limit - 1);
      let n = 0;
      for (const job of jobs) {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        n++;
      }
      return n;
    },
    async enqueue(id, jobId, data, attempts, deadLetterMax) {
      await queue(id).add('retry', data, {
        jobId,
        attempts,
        backoff: { type: 'spl' },
        removeOnComplete: true,
        removeOnFail: { count: deadLetterMax },
      });
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
    },
  };
}
