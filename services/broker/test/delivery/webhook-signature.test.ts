import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/delivery/webhook-sender.js';
import { webhookId } from '../../src/events/event-job.js';
import { decodeWebhookSecret } from '../../src/snapshot/topic-table.js';

describe('Standard Webhooks signatures', () => {
  const oldSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const newSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const body = JSON.stringify({ specversion: '1.0', id: 'e-1', source: '/s', type: 't', data: { a: 1 } });
  const id = webhookId('k'.repeat(64), 'sub-1');
  const timestamp = Math.floor(Date.now() / 1000);

  it('signs with every secret still in its rotation overlap, each verifiable on its own', () => {
    const keys = [
      { key: decodeWebhookSecret(oldSecret), notAfter: Date.now() + 60_000 },
      { key: decodeWebhookSecret(newSecret), notAfter: Number.POSITIVE_INFINITY },
    ];
    const signature = signWebhook(keys, id, timestamp, body);
    expect(signature.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    for (const secret of [oldSecret, newSecret])
      expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: 'e-1' });
  });

  it('stops signing with a secret after its notAfter', () => {
    const keys = [
      { key: decodeWebhookSecret(oldSecret), notAfter: Date.now() - 1 },
      { key: decodeWebhookSecret(newSecret), notAfter: Number.POSITIVE_INFINITY },
    ];
    const signature = signWebhook(keys, id, timestamp, body);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    expect(signature.split(' ')).toHaveLength(1);
    expect(() => new Webhook(oldSecret).verify(body, headers)).toThrow();
    expect(new Webhook(newSecret).verify(body, headers)).toBeTruthy();
  });

  it('gives one webhook-id per event and subscription', () => {
    expect(webhookId('a'.repeat(64), 's1')).toBe(webhookId('a'.repeat(64), 's1'));
    expect(webhookId('a'.repeat(64), 's1')).not.toBe(webhookId('a'.repeat(64), 's2'));
    expect(webhookId('a'.repeat(64), 's1')).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  });
});
