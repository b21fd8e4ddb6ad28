import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';
import { type AccessFixture, as, buildOwaspHub, DEMO_TOPIC } from './hub.js';

/**
 * OWASP API7:2023 Server Side Request Forgery: a caller names a URL the hub will fetch — a
 * webhook endpoint, an upstream — pointing at the cloud metadata service or a private
 * address, so the hub's network position does the attacker's reading.
 *
 * Refused by: ARCHITECTURE "Outbound calls" (SPL_EGRESS_ALLOW, checked when connecting;
 * loopback, link-local and private ranges refused unless listed), BKS 60(3)(d) (only known
 * external services), 59(7) (server-side validation of input). Two representative cases
 * here; the hostile-input suite (issue 6 §3) covers DNS rebinding, redirects and federated
 * JWKS URLs.
 */
describe('API7 SSRF: a webhook URL at the metadata service', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
    await fx.application('ssrf-app');
  });
  afterAll(async () => fx?.close());

  // Found by this file: without SPL_EGRESS_ALLOW the registry took https to any literal
  // address; topics/webhook-url.ts now refuses special addresses as `*` would. (Loopback
  // stays allowed in development, as the quick start's receivers need it.)
  it.each([
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.5/internal',
    'https://[fe80::1]/events',
    'https://100.100.100.200/latest/meta-data/',
    'https://user:pw@rujukan.dinkes.example.go.id/events',
  ])('refuses a push subscription to %s', async (pushUrl) => {
    const res = await as(fx, 'consumer-own', {
      method: 'POST',
      url: '/v1/topic-subscriptions',
      payload: {
        application: 'dinkes/ssrf-app',
        topic: DEMO_TOPIC,
        purpose: 'Pengujian SSRF',
        mode: 'push',
        pushUrl,
      },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('SPL_WEBHOOK_URL_REFUSED');
  });
});

describe('API7 SSRF: an upstream at the metadata service', () => {
  let g: OwaspGateway;
  beforeAll(async () => {
    g = await buildOwaspGateway({
      configure: (hub) => {
        hub.route({ api: 'metadata', version: 'v1', urls: ['http://169.254.169.254/latest'] });
        hub.subscribe('app-portal', 'metadata', 'v1');
      },
    });
  });
  afterAll(async () => g?.close());

  it('answers 502 SPL_EGRESS_REFUSED and never connects, as SPL_EGRESS_ALLOW lists only 127.0.0.1', async () => {
    const res = await g.gw.app.inject({
      method: 'GET',
      url: '/dinkes/metadata/v1/meta-data',
      headers: { authorization: `Bearer ${await g.hub.token()}` },
    });
    expect(res.statusCode).toBe(502);
    expect(res.json().code).toBe('SPL_EGRESS_REFUSED');
    expect(res.body).not.toMatch(/ami-id|instance-id/);
  });
});
