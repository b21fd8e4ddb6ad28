/**
 * Every Redis key, channel and BullMQ name the broker uses, built in one place (BullMQ's
 * queue-keys model). Ids are hex digests or registry ids (never containing `:`), so the
 * BullMQ prefix can be given a Cluster hash tag here without touching anything else.
 */
export interface BrokerRedisKeys {
  /** The registry's snapshot change channel. */
  snapshotChannel: string;
  /** The gateway's usage stream: the registry ingests both (usage/event-usage.ts). */
  usageStream: string;
  /** BullMQ's `prefix` option. */
  bullPrefix: string;
  /** The first-attempt queue: one job per event. */
  deliverQueue: string;
  /** One subscription's retry queue; its failed set is the dead-letter queue. */
  retryQueue(subscriptionId: string): string;
  /** INCR per publisher per topic per minute. */
  publishRate(topicId: string, applicationId: string, minute: number): string;
  /** Set of subscription ids an event was handed to (POSTed, queued or stored for pull). */
  handedOver(eventKey: string): string;
  /** Stream of a topic's events for replay, trimmed by the topic's retention. */
  topicStream(topicId: string): string;
  /** Hash subscriptionId → first failure (ms) since the last success. */
  failingSince: string;
  /** Hash subscriptionId → why it is disabled here (410 Gone, suspension). */
  disabled: string;
  /** Stream of a pull subscription's events not yet acknowledged. */
  pullStream(subscriptionId: string): string;
  /** Sorted set of leased stream ids, scored by lease expiry (ms). */
  pullLeases(subscriptionId: string): string;
  /** The last stream id handed out for the first time. */
  pullCursor(subscriptionId: string): string;
}

export function createRedisKeys(prefix: string): BrokerRedisKeys {
  const b = `${prefix}:broker`;
  return {
    snapshotChannel: `${prefix}:snapshot:changed`,
    usageStream: `${prefix}:usage:stream`,
    bullPrefix: `${b}:bull`,
    deliverQueue: 'deliver',
    retryQueue: (id) => `retry-${id}`,
    publishRate: (topicId, app, minute) => `${b}:rate:${topicId}:${app}:${minute}`,
    handedOver: (key) => `${b}:handed:${key}`,
    topicStream: (topicId) => `${b}:topic:${topicId}`,
    failingSince: `${b}:failing-since`,
    disabled: `${b}:disabled`,
    pullStream: (id) => `${b}:pull:${id}`,
    pullLeases: (id) => `${b}:pull:${id}:leases`,
    pullCursor: (id) => `${b}:pull:${id}:cursor`,
  };
}
