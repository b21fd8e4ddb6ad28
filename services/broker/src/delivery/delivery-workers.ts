import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type EventJobData, type RetryJobData, webhookId } from '../events/event-job.js';
import type { PullStore } from '../pull/pull-store.js';
import type { BrokerRedisKeys } from '../redis-keys.js';
import { type CompiledSubscription, matchesFilter, type TopicTable } from '../snapshot/topic-table.js';
import type { SubscriptionCircuits } from './circuit-breaker.js';
import type { RegistrySuspender } from './registry-suspender.js';
import type { RetrySchedule } from './retry-schedule.js';
import type { DeliveryResult, WebhookSender } from './webhook-sender.js';

/** Delivery events, for metrics, usage and the evidence log. Called synchronously; keep them cheap. */
export interface DeliveryObserver {
  onAttempt?(sub: CompiledSubscription, data: EventJobData, result: DeliveryResult, isRetry: boolean): void;
  onRetryScheduled?(sub: CompiledSubscription, data: EventJobData): void;
  onDeadLetter?(
    sub: CompiledSubscription | null,
    subscriptionId: string,
    data: EventJobData,
    reason: string,
  ): void;
  onPulledStored?(sub: CompiledSubscription, data: EventJobData): void;
  onDisabled?(sub: CompiledSubscription, reason: string): void;
}

class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/** Member of the handed-over set for the topic stream write. */
const STREAM_MEMBER = '~stream';
/** How long the handed-over set of a job that failed is kept for its re-run. */
const HANDED_TTL_SECONDS = 86_400;
/** How long the set of a completed job is kept (well past the stalled-job recovery window). */
const HANDED_DONE_TTL_SECONDS = 120;
/** How often `disabled` and `failing-since` are read back from Redis. */
const STATE_REFRESH_MS = 1_000;

export interface DeliveryWorkersOptions {
  /** For BullMQ (it duplicates it for blocking reads): maxRetriesPerRequest must be null. */
  connection: Redis;
  /** For the broker's own commands. */
  redis: Redis;
  keys: BrokerRedisKeys;
  table: () => TopicTable | null;
  sender: WebhookSender;
  schedule: RetrySchedule;
  circuits: SubscriptionCircuits;
  pull: PullStore;
  suspender: RegistrySuspender;
  /** First-attempt jobs at once, per process. */
  concurrency: number;
  /** Retry jobs at once per subscription, per process. */
  retryConcurrency: number;
  /**
   * First-attempt POSTs in flight to one subscription, per process, past which its new events
   * go straight to its retry queue: a bulkhead, so a hanging receiver holds at most this many
   * of the `concurrency` slots before its circuit opens.
   */
  maxInFlightPerSubscription: number;
  lockMs: number;
  deadLetterMax: number;
  suspendAfterMs: number;
  observer?: DeliveryObserver;
  onError?: (err: Error, context: string) => void;
  now?: () => number;
}

export interface DeliveryWorkers {
  /** Starts or stops per-subscription retry workers to match the table's push subscriptions. */
  reconcile(table: TopicTable): void;
  /** Waiting and delayed jobs per queue (queue depth metrics). */
  depths(): Promise<
    Array<{ queue: string; subscriptionId: string | null; waiting: number; delayed: number }>
  >;
  close(): Promise<void>;
}

/**
 * The delivery loop (shared/notes/broker-delivery.md):
 *
 *   deliver queue ── one job per event ──► POST to every matching push subscription at once
 *        │                                 (own timeout each), XADD to pull subscriptions,
 *        │                                 XADD to the topic stream (replay)
 *        │   success ─► handed-over set       failure / circuit open ─► retry-<sub> queue
 *        ▼                                                               │ backoff + jitter,
 *   job completes once every subscription is handed over                  │ Retry-After
 *                                                                        ▼ last retry fails
 *                                                          failed set of retry-<sub> = dead letters
 *
 * The handed-over set (per job) makes a re-run — after a crash, a stall, or a Redis error —
 * skip the subscriptions already served; only a POST in flight when the process died is
 * repeated.
 */
export function createDeliveryWorkers(options: DeliveryWorkersOptions): DeliveryWorkers {
  const { redis, keys, sender, schedule, circuits } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  let disabled = new Map<string, string>();
  let failingSince = new Map<string, number>();
  const reported = new Set<string>();
  const inFlight = new Map<string, number>();

  const refreshState = async () => {
    try {
      const [d, f] = await Promise.all([redis.hgetall(keys.disabled), redis.hgetall(keys.failingSince)]);
      disabled = new Map(Object.entries(d));
      failingSince = new Map(Object.entries(f).map(([k, v]) => [k, Number(v)]));
    } catch (err) {
      onError(err as Error, 'reading subscription state');
    }
  };
  void refreshState();
  const stateTimer = setInterval(() => void refreshState(), STATE_REFRESH_MS);
  stateTimer.unref();

  const bullOpts = { connection: options.connection, prefix: keys.bullPrefix };
  const retryQueues = new Map<string, Queue<RetryJobData>>();
  const retryQueue = (subscriptionId: string) => {
    let q = retryQueues.get(subscriptionId);
    if (!q) {
      q = new Queue<RetryJobData>(keys.retryQueue(subscriptionId), bullOpts);
      q.on('error', (err) => onError(err, 'retry queue'));
      retryQueues.set(subscriptionId, q);
    }
    return q;
  };

  const disable = async (sub: CompiledSubscription, reason: string) => {
    disabled.set(sub.id, reason);
    await redis.hset(keys.disabled, sub.id, reason);
    options.observer?.onDisabled?.(sub, reason);
  };

  const noteSuccess = (sub: CompiledSubscription) => {
    circuits.onSuccess(sub.id);
    if (failingSince.delete(sub.id)) {
      reported.delete(sub.id);
      redis.hdel(keys.failingSince, sub.id).catch((err) => onError(err, 'clearing failing-since'));
    }
  };

  /** Records a failure; suspends the subscription once it has failed for suspendAfterMs. */
  const noteFailure = async (sub: CompiledSubscription, result: DeliveryResult) => {
    circuits.onFailure(sub.id);
    const t = now();
    let since = failingSince.get(sub.id);
    if (since === undefined) {
      await redis.hsetnx(keys.failingSince, sub.id, t);
      since = Number((await redis.hget(keys.failingSince, sub.id)) ?? t);
      failingSince.set(sub.id, since);
    }
    if (t - since < options.suspendAfterMs || reported.has(sub.id)) return;
    reported.add(sub.id);
    const reason = `deliveries to ${sub.url} have failed since ${new Date(since).toISOString()} (last: ${result.error})`;
    await disable(sub, `suspended: ${reason}`);
    const outcome = await options.suspender.suspend(sub.id, reason);
    if (outcome === 'failed') reported.delete(sub.id); // told again on the next failure
  };

  const enqueueRetry = async (sub: CompiledSubscription, data: EventJobData, delayMs: number) => {
    const retry: RetryJobData = { ...data, s: sub.id };
    await retryQueue(sub.id).add('retry', retry, {
      // One retry job per event and subscription: a re-run of the first attempt adds nothing.
      jobId: `${data.k}-${data.at}`,
      delay: delayMs,
      attempts: schedule.attempts,
      backoff: { type: 'spl' },
      removeOnComplete: true,
      removeOnFail: { count: options.deadLetterMax },
    });
    options.observer?.onRetryScheduled?.(sub, data);
  };

  const serve = async (sub: CompiledSubscription, data: EventJobData): Promise<void> => {
    if (sub.mode === 'pull') {
      await options.pull.store(sub.id, data);
      options.observer?.onPulledStored?.(sub, data);
      return;
    }
    const busy = inFlight.get(sub.id) ?? 0;
    if (busy >= options.maxInFlightPerSubscription || circuits.isOpen(sub.id))
      return enqueueRetry(sub, data, schedule.delayMs(1));
    inFlight.set(sub.id, busy + 1);
    let result: DeliveryResult;
    try {
      result = await sender.send(sub, webhookId(data.k, sub.id), data.ce);
    } finally {
      inFlight.set(sub.id, (inFlight.get(sub.id) ?? 1) - 1);
    }
    options.observer?.onAttempt?.(sub, data, result, false);
    if (result.isDelivered) return noteSuccess(sub);
    await noteFailure(sub, result);
    if (result.isGone) {
      await disable(sub, 'the endpoint answered 410 Gone');
      return enqueueRetry(sub, data, 0); // straight to the dead letters, replayable later
    }
    return enqueueRetry(sub, data, schedule.delayMs(1, result.retryAfterMs));
  };

  const processEvent = async (job: Job<EventJobData>) => {
    const table = options.table();
    if (!table) throw new Error('no snapshot loaded yet');
    const data = job.data;
    const topic = table.topicById(data.t);
    if (!topic) return 'topic-gone';
    const handedKey = keys.handedOver(job.id!);
    const isRerun = job.attemptsMade > 0 || job.stalledCounter > 0;
    const handed = isRerun ? new Set(await redis.smembers(handedKey)) : null;
    const marks: Promise<unknown>[] = [];
    const mark = (member: string) => marks.push(redis.sadd(handedKey, member));
    const work: Promise<void>[] = [];
    if (!handed?.has(STREAM_MEMBER)) {
      const minId = now() - topic.limits.retentionHours * 3_600_000;
      work.push(
        redis
          .xadd(keys.topicStream(topic.id), 'MINID', '~', minId, '*', 'j', JSON.stringify(data))
          .then(() => void mark(STREAM_MEMBER)),
      );
    }
    for (const sub of topic.subscriptions) {
      if (!sub.isActive || disabled.has(sub.id) || handed?.has(sub.id)) continue;
      if (!matchesFilter(sub, data.ty, data.su)) continue;
      work.push(serve(sub, data).then(() => void mark(sub.id)));
    }
    const settled = await Promise.allSettled(work);
    await Promise.allSettled(marks);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      // BullMQ runs the job again; the handed-over set makes it skip what is done.
      await redis.expire(handedKey, HANDED_TTL_SECONDS).catch(() => {});
      throw failed.reason;
    }
    // Done. The set is kept a little longer, not deleted: a crash between here and BullMQ
    // marking the job completed re-runs it within about 2 × the lock, and then skips all.
    await redis.expire(handedKey, HANDED_DONE_TTL_SECONDS);
    return 'done';
  };

  const processRetry = async (job: Job<RetryJobData>) => {
    const data = job.data;
    const sub = options.table()?.subscription(data.s);
    if (!sub?.isActive) throw new UnrecoverableError('the subscription is not active');
    // The cache may be up to a second old: a dead-letter replay lifts the flag just before.
    const why = disabled.has(sub.id) ? await redis.hget(keys.disabled, sub.id) : null;
    if (why) throw new UnrecoverableError(`the subscription is disabled here: ${why}`);
    disabled.delete(sub.id);
    const result = await sender.send(sub, webhookId(data.k, sub.id), data.ce);
    options.observer?.onAttempt?.(sub, data, result, true);
    if (result.isDelivered) return noteSuccess(sub);
    await noteFailure(sub, result);
    if (result.isGone) {
      await disable(sub, 'the endpoint answered 410 Gone');
      throw new UnrecoverableError('the endpoint answered 410 Gone');
    }
    throw new DeliveryFailedError(result.error ?? 'delivery failed', result.retryAfterMs);
  };

  const workerOpts = {
    ...bullOpts,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    maxStalledCount: 5,
  };
  const deliverWorker = new Worker<EventJobData>(keys.deliverQueue, processEvent, {
    ...workerOpts,
    concurrency: options.concurrency,
  });
  deliverWorker.on('error', (err) => onError(err, 'deliver worker'));

  const retryWorkers = new Map<string, Worker<RetryJobData>>();
  const startRetryWorker = (subscriptionId: string) => {
    const worker = new Worker<RetryJobData>(keys.retryQueue(subscriptionId), processRetry, {
      ...workerOpts,
      concurrency: options.retryConcurrency,
      settings: {
        // retry n+1 after the n-th retry failed (attemptsMade counts this queue's runs).
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          schedule.delayMs(attemptsMade + 1, err instanceof DeliveryFailedError ? err.retryAfterMs : null),
      },
    });
    worker.on('error', (err) => onError(err, 'retry worker'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const isFinal = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (isFinal)
        options.observer?.onDeadLetter?.(
          options.table()?.subscription(subscriptionId) ?? null,
          subscriptionId,
          job.data,
          err.message,
        );
    });
    retryWorkers.set(subscriptionId, worker);
  };

  let isClosed = false;
  let deliverQueue: Queue | null = null;
  return {
    reconcile(table) {
      if (isClosed) return;
      const wanted = new Set(table.pushSubscriptions().map((s) => s.id));
      for (const id of wanted) if (!retryWorkers.has(id)) startRetryWorker(id);
      for (const [id, worker] of retryWorkers)
        if (!wanted.has(id)) {
          retryWorkers.delete(id);
          void worker.close().catch((err) => onError(err, 'closing a retry worker'));
        }
    },
    async depths() {
      const out: Awaited<ReturnType<DeliveryWorkers['depths']>> = [];
      deliverQueue ??= new Queue(keys.deliverQueue, bullOpts);
      const c = await deliverQueue.getJobCounts('wait', 'delayed');
      out.push({ queue: 'deliver', subscriptionId: null, waiting: c.wait ?? 0, delayed: c.delayed ?? 0 });
      for (const id of retryWorkers.keys()) {
        const r = await retryQueue(id).getJobCounts('wait', 'delayed');
        out.push({ queue: 'retry', subscriptionId: id, waiting: r.wait ?? 0, delayed: r.delayed ?? 0 });
      }
      return out;
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(stateTimer);
      await deliverWorker.close().catch((err) => onError(err, 'closing the deliver worker'));
      await Promise.all([...retryWorkers.values()].map((w) => w.close().catch(() => {})));
      await Promise.all([...retryQueues.values()].map((q) => q.close().catch(() => {})));
      await deliverQueue?.close().catch(() => {});
    },
  };
}
