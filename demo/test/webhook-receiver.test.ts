import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoUpstream } from '../src/upstream-app.js';

/** The demo's stand-in for Dinkes receiving birth events checks Standard Webhooks signatures. */
describe('demo webhook receiver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spl-demo-webhook-'));
  const secretFile = join(dir, 'secret');
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const event = {
    specversion: '1.0',
    id: 'akta-0001',
    source: '/disdukcapil/siak',
    type: 'id.go.contoh.disdukcapil.kelahiran.tercatat.v1',
    data: { nomorAkta: '3299-LU-01012026-0001', tanggalLahir: '2026-01-01' },
  };
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildDemoUpstream({ logger: false, webhookSecretFile: secretFile });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliver = (body: string, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/webhooks/kelahiran',
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', ...headers },
      payload: body,
    });

  it('keeps a delivery unverified while it knows no secret yet', async () => {
    const res = await deliver(JSON.stringify(event), { 'webhook-id': 'msg_1' });
    expect(res.statusCode).toBe(204);
    const list = (await app.inject({ method: 'GET', url: '/webhooks/kelahiran' })).json();
    expect(list.deliveries[0]).toMatchObject({ webhookId: 'msg_1', verified: false, event });
  });

  it('accepts a delivery signed with the subscription secret and refuses a forged one', async () => {
    writeFileSync(secretFile, secret, { mode: 0o600 });
    const body = JSON.stringify(event);
    const at = new Date();
    const signature = new Webhook(secret).sign('msg_2', at, body);
    const ok = await deliver(body, {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    });
    expect(ok.statusCode).toBe(204);
    const forged = await deliver(body.replace('0001', '0002'), {
      'webhook-id': 'msg_3',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    });
    expect(forged.statusCode).toBe(401);
    const list = (await app.inject({ method: 'GET', url: '/webhooks/kelahiran' })).json();
    expect(list.count).toBe(2);
    expect(list.deliveries[0]).toMatchObject({ webhookId: 'msg_2', verified: true, event });
  });
});
