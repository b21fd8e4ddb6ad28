import { createHash } from 'node:crypto';
import type { EvidenceLog } from '@spl/evidence-log';
import type { DeliveryObserver } from '../delivery/delivery-workers.js';
import { webhookId } from '../events/event-job.js';
import type { PublishObserver } from '../routes/publish.js';
import type { TopicTable } from '../snapshot/topic-table.js';
import type { EventUsage, EventUsageOutcome } from '../usage/event-usage.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The broker's evidence (issue 4 §6, as the gateway keeps for calls): each accepted publish
 * and each delivery attempt is a link in the process's digest chain. A record holds digests
 * and coordinates only — the SHA-256 of the CloudEvent bytes, never the event:
 *
 *   publish   method PUBLISH, status 202, application = publisher, requestDigest = sha256(body)
 *   delivery  method DELIVER, status = webhook answer (0: none), application = subscriber,
 *             requestId = webhook-id, urlDigest = sha256(webhook url), requestDigest = sha256(ce)
 */
export function createPublishRecorder(input: {
  evidence: EvidenceLog | null;
  usage: EventUsage | null;
}): PublishObserver {
  return {
    onPublish(p) {
      const outcome: EventUsageOutcome =
        p.outcome === 'accepted' || p.outcome === 'duplicate'
          ? p.outcome
          : p.outcome === 'unavailable' || p.outcome === 'backlog'
            ? 'unavailable'
            : 'refused';
      input.usage?.record(p.topic, p.applicationId, outcome, p.bytes, 0);
      if (!input.evidence || p.outcome !== 'accepted') return;
      input.evidence.record({
        requestId: p.requestId,
        org: p.topic.org,
        api: p.topic.topic,
        version: 'events',
        application: p.applicationId,
        method: 'PUBLISH',
        status: 202,
        urlDigest: sha256(`/v1/topics/${p.topic.org}/${p.topic.topic}/events`),
        requestDigest: p.bodyDigest ?? sha256(''),
        responseDigest: null,
        responseDigestReason: 'not-kept',
      });
    },
  };
}

// Per event and per URL, not per attempt: a job's data object is shared by its subscriptions.
const eventDigests = new WeakMap<object, string>();
const urlDigests = new Map<string, string>();
const digestOfEvent = (data: { ce: string }) => {
  let d = eventDigests.get(data);
  if (!d) {
    d = sha256(data.ce);
    eventDigests.set(data, d);
  }
  return d;
};
const digestOfUrl = (url: string) => {
  let d = urlDigests.get(url);
  if (!d) {
    if (urlDigests.size > 10_000) urlDigests.clear();
    d = sha256(url);
    urlDigests.set(url, d);
  }
  return d;
};

export function createDeliveryRecorder(input: {
  evidence: EvidenceLog | null;
  usage: EventUsage | null;
  table: () => TopicTable | null;
}): DeliveryObserver {
  const topicOf = (id: string) => input.table()?.topicById(id) ?? { id, org: '', topic: id };
  return {
    onAttempt(sub, data, result) {
      input.usage?.record(
        topicOf(data.t),
        sub.applicationId,
        result.isDelivered ? 'delivered' : 'failed',
        data.ce.length,
        result.durationMs,
      );
      input.evidence?.record({
        requestId: webhookId(data.k, sub.id),
        org: sub.org,
        api: sub.topic,
        version: 'events',
        application: sub.applicationId,
        method: 'DELIVER',
        status: result.status,
        urlDigest: digestOfUrl(sub.url ?? ''),
        requestDigest: digestOfEvent(data),
        responseDigest: null,
        responseDigestReason: 'not-kept',
      });
    },
    onPulledStored(sub, data) {
      input.usage?.record(topicOf(data.t), sub.applicationId, 'delivered', data.ce.length, 0);
    },
    onDeadLetter(sub, subscriptionId, data) {
      input.usage?.record(
        topicOf(data.t),
        sub?.applicationId ?? subscriptionId,
        'dead-lettered',
        data.ce.length,
        0,
      );
    },
  };
}
