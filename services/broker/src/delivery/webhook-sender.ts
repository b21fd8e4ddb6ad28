import { createHmac } from 'node:crypto';
import { createEgressConnector, type EgressPolicy } from '@spl/egress';
import { Agent, request, errors as undiciErrors } from 'undici';
import type { CompiledSubscription } from '../snapshot/topic-table.js';
import { parseRetryAfter } from './retry-schedule.js';

/** How one POST ended. `status` is 0 when no answer came (refused, timeout, egress). */
export interface DeliveryResult {
  isDelivered: boolean;
  status: number;
  /** 410 Gone: the receiver asks never to be called again. */
  isGone: boolean;
  retryAfterMs: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookSender {
  send(sub: CompiledSubscription, webhookId: string, body: string): Promise<DeliveryResult>;
  close(): Promise<void>;
}

/**
 * Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
 * active secret, space-separated, so a receiver rotating its secret verifies with either.
 */
export function signWebhook(
  keys: CompiledSubscription['keys'],
  webhookId: string,
  timestamp: number,
  body: string,
  now = Date.now(),
): string {
  const signed = `${webhookId}.${timestamp}.${body}`;
  const out: string[] = [];
  for (const k of keys)
    if (k.notAfter > now) out.push(`v1,${createHmac('sha256', k.key).update(signed).digest('base64')}`);
  return out.join(' ');
}

/**
 * POSTs the structured-mode CloudEvent with Standard Webhooks headers through one undici
 * Agent whose connect-time lookup applies SPL_EGRESS_ALLOW to the address actually dialled.
 * Each attempt has its own timeout; the answer's body is discarded.
 */
export function createWebhookSender(input: {
  egress: EgressPolicy;
  timeoutMs: number;
  connections: number;
}): WebhookSender {
  const agent = new Agent({
    connections: input.connections,
    connect: createEgressConnector(input.egress, { timeout: input.timeoutMs }),
    headersTimeout: input.timeoutMs,
    bodyTimeout: input.timeoutMs,
    keepAliveTimeout: 30_000,
  });
  return {
    async send(sub, webhookId, body) {
      const started = performance.now();
      const done = (r: Omit<DeliveryResult, 'durationMs'>): DeliveryResult => ({
        ...r,
        durationMs: performance.now() - started,
      });
      if (!sub.url || sub.problem)
        return done({
          isDelivered: false,
          status: 0,
          isGone: false,
          retryAfterMs: null,
          error: sub.problem ?? 'no url',
        });
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const res = await request(sub.url, {
          dispatcher: agent,
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents+json; charset=utf-8',
            'webhook-id': webhookId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(sub.keys, webhookId, timestamp, body),
            'user-agent': 'spl-broker',
          },
          body,
          // The Agent's connect, headers and body timeouts bound the attempt: no AbortSignal
          // and timer per POST on the hot path.
        });
        await res.body.dump();
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return done({
          isDelivered: ok,
          status: res.statusCode,
          isGone: res.statusCode === 410,
          retryAfterMs: ok ? null : parseRetryAfter(res.headers['retry-after']),
          error: ok ? null : `answered ${res.statusCode}`,
        });
      } catch (err) {
        const e = err as Error & { code?: string };
        const timedOut =
          e.name === 'TimeoutError' ||
          e instanceof undiciErrors.HeadersTimeoutError ||
          e instanceof undiciErrors.BodyTimeoutError ||
          e instanceof undiciErrors.ConnectTimeoutError;
        return done({
          isDelivered: false,
          status: 0,
          isGone: false,
          retryAfterMs: null,
          error: timedOut ? `timed out after ${input.timeoutMs} ms` : (e.code ?? e.message),
        });
      }
    },
    async close() {
      await agent.close().catch(() => {});
    },
  };
}
