import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';

/**
 * A stand-in for Dinkes's own system receiving the hub's birth events (the demo topic
 * `disdukcapil/kelahiran-tercatat`): the broker POSTs each CloudEvent here with Standard
 * Webhooks headers, and the receiver checks the signature with the official
 * `standardwebhooks` package against the subscription's secret — the way a subscribing PD
 * should. `GET /webhooks/kelahiran` lists what arrived, so a newcomer can watch it.
 *
 * The secret is made by the registry when the demo subscription is created; the quick start
 * writes it to `secretFile` (mode 0600) and the receiver reads it on each delivery, so it
 * works whether it started before or after the subscription existed.
 */
export interface WebhookReceiverOptions {
  /** A file holding the `whsec_…` secret; absent or unreadable → deliveries are kept but marked unverified. */
  secretFile?: string | undefined;
  /** How many deliveries are kept (newest first). */
  keep?: number;
}

export interface ReceivedDelivery {
  receivedAt: string;
  webhookId: string | null;
  /** The signature checked out against the subscription's secret. */
  verified: boolean;
  /** Why not, when not. */
  reason?: string;
  event: unknown;
}

function readSecret(file: string | undefined): string | null {
  if (!file) return null;
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export async function webhookReceiver(app: FastifyInstance, options: WebhookReceiverOptions): Promise<void> {
  const keep = options.keep ?? 100;
  const received: ReceivedDelivery[] = [];

  // The signature covers the exact bytes: read the body as text, parse it afterwards.
  app.addContentTypeParser(
    ['application/cloudevents+json', 'application/json'],
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );

  app.post('/webhooks/kelahiran', { schema: { hide: true } }, async (request, reply) => {
    const body = String(request.body ?? '');
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    const secret = readSecret(options.secretFile);
    let verified = false;
    let reason: string | undefined;
    if (!secret) reason = 'no subscription secret known to the receiver yet';
    else {
      try {
        new Webhook(secret).verify(body, headers);
        verified = true;
      } catch (err) {
        reason = (err as Error).message;
      }
    }
    if (secret && !verified) return reply.code(401).send({ error: 'invalid signature' });
    let event: unknown = body;
    try {
      event = JSON.parse(body);
    } catch {}
    received.unshift({
      receivedAt: new Date().toISOString(),
      webhookId: headers['webhook-id'] || null,
      verified,
      ...(reason ? { reason } : {}),
      event,
    });
    received.length = Math.min(received.length, keep);
    request.log.info({ webhookId: headers['webhook-id'], verified }, 'event received');
    return reply.code(204).send();
  });

  app.get('/webhooks/kelahiran', { schema: { hide: true } }, async () => ({
    count: received.length,
    deliveries: received,
  }));
}
