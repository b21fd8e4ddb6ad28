import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';
import { type AccessFixture, as, buildOwaspHub, DEMO_API, DEMO_APP, problemOf } from './hub.js';

/**
 * OWASP API1:2023 Broken Object Level Authorization: a caller with a valid token names an
 * object id that belongs to another organisation and reads or changes it.
 *
 * Refused by: BKS 60(2)(c) (access "sesuai otoritasnya"), 60(3)(f) (authorisation limits),
 * 59(6)(d) (the token checked on every access to informasi yang dikecualikan). The registry
 * checks the object's organisation in the handler on top of the route's role
 * (plugins/access-control.ts); a dikecualikan object another organisation may not see is
 * answered 404, as if it did not exist. The gateway checks the application's subscription to
 * that very version on every call.
 *
 * Attacker: bpjs-kesehatan (publisher-other, consumer-other), valid tokens of its own.
 * Victims: disdukcapil's dikecualikan API, dinkes's application and subscriptions.
 */
describe('API1 BOLA: objects of another organisation', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  it('does not reveal a dikecualikan API, its versions or its OpenAPI document to another organisation', async () => {
    for (const url of [
      `/v1/apis/${DEMO_API}`,
      `/v1/apis/${DEMO_API}/versions`,
      `/v1/apis/${DEMO_API}/versions/v1`,
      `/v1/apis/${DEMO_API}/versions/v1/openapi`,
    ]) {
      for (const persona of ['publisher-other', 'consumer-other'] as const) {
        const res = await as(fx, persona, { method: 'GET', url });
        expect(res.statusCode, `${persona} GET ${url}`).toBe(404);
        expect(problemOf(res).code).toBe('SPL_NOT_FOUND');
      }
      // The owner sees it: the 404 above is the object rule, not a missing object.
      expect((await as(fx, 'publisher-own', { method: 'GET', url })).statusCode).toBe(200);
    }
    const list = await as(fx, 'consumer-other', { method: 'GET', url: '/v1/apis' });
    expect(list.body).not.toContain('kependudukan');
  });

  it("does not show another organisation's subscription or topic subscription by id", async () => {
    for (const url of [
      `/v1/subscriptions/${fx.subscriptionId}`,
      `/v1/topic-subscriptions/${fx.topicSubscriptionId}`,
    ]) {
      expect((await as(fx, 'consumer-other', { method: 'GET', url })).statusCode).toBe(404);
      expect((await as(fx, 'publisher-other', { method: 'GET', url })).statusCode).toBe(404);
      expect((await as(fx, 'consumer-own', { method: 'GET', url })).statusCode).toBe(200);
    }
  });

  it("refuses to change another organisation's API or application", async () => {
    const patchApi = await as(fx, 'publisher-other', {
      method: 'PATCH',
      url: `/v1/apis/${DEMO_API}`,
      payload: { description: 'taken over' },
    });
    expect([403, 404]).toContain(patchApi.statusCode);
    const patchApp = await as(fx, 'consumer-other', {
      method: 'PATCH',
      url: `/v1/applications/${DEMO_APP}`,
      payload: { name: 'taken over' },
    });
    expect(patchApp.statusCode).toBe(403);
    const app = await fx.asOperator({ method: 'GET', url: `/v1/applications/${DEMO_APP}` });
    expect(app.json().name).not.toBe('taken over');
  });

  it("refuses to rotate (and so learn) another organisation's application or webhook secret", async () => {
    const slug = await fx.application('bola-victim');
    const rotate = await as(fx, 'consumer-other', {
      method: 'POST',
      url: `/v1/applications/dinkes/${slug}/secrets`,
      payload: {},
    });
    expect(rotate.statusCode).toBe(403);
    expect(rotate.body).not.toMatch(/clientSecret/);
    const webhook = await as(fx, 'consumer-other', {
      method: 'POST',
      url: `/v1/topic-subscriptions/${fx.topicSubscriptionId}/secrets`,
      payload: {},
    });
    expect(webhook.statusCode).toBe(404);
  });
});

describe('API1 BOLA at the gateway: a version the application holds no approved subscription to', () => {
  let g: OwaspGateway;
  beforeAll(async () => {
    g = await buildOwaspGateway();
  });
  afterAll(async () => g?.close());

  it('refuses another API, a suspended subscription and a token naming no application, and forwards nothing', async () => {
    const call = async (url: string, clientId: string) =>
      g.gw.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${await g.hub.token(clientId)}` },
      });
    expect((await call('/dinkes/faskes/v1/ok', 'portal-client')).statusCode).toBe(200);
    const seen = g.upstream.seen.length;
    expect((await call('/dinkes/rahasia/v1/ok', 'portal-client')).statusCode).toBe(403);
    expect((await call('/dinkes/faskes/v1/ok', 'dashboard-client')).statusCode).toBe(403);
    expect((await call('/dinkes/faskes/v1/ok', 'someone-else')).statusCode).toBe(403);
    expect(g.upstream.seen.length).toBe(seen);
  });
});
