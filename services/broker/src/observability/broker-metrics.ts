import { Counter, Gauge, Histogram, type Registry } from '@spl/metrics';
import type { DeliveryObserver, DeliveryWorkers } from '../delivery/delivery-workers.js';
import type { PublishObserver } from '../routes/publish.js';
import type { TopicTable } from '../snapshot/topic-table.js';

const topicName = (table: TopicTable | null, topicId: string) => {
  const t = table?.topicById(topicId);
  return t ? `${t.org}/${t.topic}` : topicId;
};

/** Publish API metrics: events by topic and outcome (accepted, duplicate, refusals). */
export function createPublishMetrics(registry: Registry): PublishObserver {
  const published = new Counter({
    name: 'spl_broker_events_published_total',
    help: 'Publish requests by topic and outcome (accepted, duplicate, invalid, rate-limited, …)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
  });
  return {
    onPublish({ topic, outcome }) {
      published.inc({ topic: `${topic.org}/${topic.topic}`, outcome });
    },
  };
}

/**
 * Delivery worker metrics (issue 4 §6): delivered, failed, retried, dead-lettered by topic
 * and subscription; webhook answers by status; publish-to-delivery latency; queue depth,
 * read from Redis only when scraped.
 */
export function createDeliveryMetrics(
  registry: Registry,
  table: () => TopicTable | null,
  workers: () => DeliveryWorkers | null,
): DeliveryObserver {
  const labels = ['topic', 'subscription'] as const;
  const delivered = new Counter({
    name: 'spl_broker_deliveries_total',
    help: 'Events delivered (2xx) or stored for a pull subscription',
    labelNames: labels,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'spl_broker_delivery_failures_total',
    help: 'Delivery attempts that failed (non-2xx, timeout, refused)',
    labelNames: labels,
    registers: [registry],
  });
  const retried = new Counter({
    name: 'spl_broker_retries_scheduled_total',
    help: "Events put on a subscription's retry queue",
    labelNames: labels,
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'spl_broker_dead_letters_total',
    help: "Events moved to a subscription's dead-letter queue",
    labelNames: labels,
    registers: [registry],
  });
  const statuses = new Counter({
    name: 'spl_broker_webhook_responses_total',
    help: 'Webhook answers by status code (0: no answer)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'spl_broker_publish_to_delivery_seconds',
    help: 'From the 202 to the 2xx of the webhook (or the pull store), by topic',
    labelNames: ['topic'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600],
    registers: [registry],
  });
  new Gauge({
    name: 'spl_broker_queue_depth',
    help: 'Jobs waiting (state=wait) or scheduled (state=delayed): the deliver queue and each retry queue',
    labelNames: ['queue', 'subscription', 'state'] as const,
    registers: [registry],
    async collect() {
      const w = workers();
      if (!w) return;
      this.reset();
      try {
        for (const d of await w.depths()) {
          const l = { queue: d.queue, subscription: d.subscriptionId ?? '' };
          this.set({ ...l, state: 'wait' }, d.waiting);
          this.set({ ...l, state: 'delayed' }, d.delayed);
        }
      } catch {
        // Redis away: no depth this scrape.
      }
    },
  });

  return {
    onAttempt(sub, data, result) {
      const l = { topic: topicName(table(), data.t), subscription: sub.id };
      statuses.inc({ status: String(result.status) });
      if (result.isDelivered) {
        delivered.inc(l);
        latency.observe({ topic: l.topic }, (Date.now() - data.at) / 1000);
      } else failed.inc(l);
    },
    onRetryScheduled(sub, data) {
      retried.inc({ topic: topicName(table(), data.t), subscription: sub.id });
    },
    onDeadLetter(_sub, subscriptionId, data) {
      deadLettered.inc({ topic: topicName(table(), data.t), subscription: subscriptionId });
    },
    onPulledStored(sub, data) {
      const topic = topicName(table(), data.t);
      delivered.inc({ topic, subscription: sub.id });
      latency.observe({ topic }, (Date.now() - data.at) / 1000);
    },
  };
}
