import { createHash } from 'node:crypto';

/**
 * The wire shape of an accepted event inside a BullMQ job and the topic stream (STYLE "Keep
 * the stored or wire shape apart"). Short keys: this JSON is written and read for every
 * event; `ce` is the structured-mode CloudEvent, exactly the bytes every webhook receives
 * and signs.
 */
export interface EventJobData {
  /** sha256(source, id), hex: the event's identity for duplicates and webhook ids. */
  k: string;
  /** Topic id. */
  t: string;
  /** The CloudEvent, structured mode (application/cloudevents+json). */
  ce: string;
  /** `type` and `subject`, for subscription filters without parsing `ce`. */
  ty: string;
  su?: string;
  /** When the broker accepted it, ms since the epoch (publish-to-delivery latency). */
  at: number;
  /** The publishing application. */
  app: string;
}

/** A retry job also names the one subscription it is for. */
export interface RetryJobData extends EventJobData {
  s: string;
}

export function eventKey(source: string, id: string): string {
  return createHash('sha256').update(source).update('\n').update(id).digest('hex');
}

/**
 * Standard Webhooks `webhook-id`: the same for one event and one subscription on every
 * attempt, retry, dead-letter replay and broker instance (ARCHITECTURE "Events").
 */
export function webhookId(key: string, subscriptionId: string): string {
  return `msg_${createHash('sha256').update(key).update('\n').update(subscriptionId).digest('base64url').slice(0, 32)}`;
}
