import { CloudEvent, emitterFor, type Message, Mode } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker } from '../helpers/test-broker.js';

const birth = (n: number) => ({ nik: String(3171000000000000 + n), name: `Bayi ${n}` });

/** The official SDK's emitter, with a transport that adds the publisher's bearer token. */
function sdkEmitter(url: string, token: string, mode: Mode) {
  const statuses: number[] = [];
  const transport = async (message: Message) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...(message.headers as Record<string, string>), authorization: `Bearer ${token}` },
      body: message.body as string,
    });
    statuses.push(res.status);
    return res;
  };
  return { emit: emitterFor(transport, { mode }), statuses };
}

describe('publishing a CloudEvent and receiving it as a signed webhook', () => {
  let hub: HubFixture;
  let broker: TestBroker;
  let receiver: Receiver;
  let secrets: string[];
  let subscriptionId: string;
  let publishUrl: string;
  let token: string;

  beforeAll(async () => {
    hub = await HubFixture.create();
    receiver = await new Receiver().start();
    const topic = hub.topic({ limits: { maxEventBytes: 2048 } });
    const pushed = hub.push(topic, receiver.url, { secretCount: 2 });
    secrets = pushed.secrets;
    subscriptionId = pushed.sub.id;
    broker = await buildTestBroker(hub);
    publishUrl = `${broker.url}/v1/topics/disdukcapil/kelahiran/events`;
    token = await hub.token();
  });
  afterAll(async () => {
    await broker?.close();
    await receiver?.stop();
  });

  it('delivers a binary-mode event sent with the SDK, verifiable with standardwebhooks under either secret', async () => {
    const { emit, statuses } = sdkEmitter(publishUrl, token, Mode.BINARY);
    const event = new CloudEvent({
      source: '/disdukcapil/sipduk',
      type: 'go.id.kota.kelahiran.dicatat',
      subject: 'kelahiran/1',
      data: birth(1),
    });
    await emit(event);
    expect(statuses).toEqual([202]);
    await receiver.waitFor(1);
    const got = receiver.received[0]!;
    for (const secret of secrets) {
      const payload = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as Record<
        string,
        unknown
      >;
      expect(payload).toMatchObject({
        id: event.id,
        source: event.source,
        specversion: '1.0',
        data: birth(1),
      });
    }
    expect(got.headers['content-type']).toContain('application/cloudevents+json');
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('delivers a structured-mode event sent with the SDK', async () => {
    const { emit, statuses } = sdkEmitter(publishUrl, token, Mode.STRUCTURED);
    const event = new CloudEvent({
      source: '/disdukcapil/sipduk',
      type: 'go.id.kota.kelahiran.dicatat',
      data: birth(2),
    });
    await emit(event);
    expect(statuses).toEqual([202]);
    await receiver.waitFor(2);
    const got = receiver.received[1]!;
    const payload = new Webhook(secrets[0]!).verify(got.body, got.headers as Record<string, string>);
    expect(payload).toMatchObject({ id: event.id, data: birth(2) });
  });

  it('does not deliver the same source and id twice within the window', async () => {
    const before = receiver.received.length;
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'dup-1',
      source: '/disdukcapil/sipduk',
      type: 'go.id.kota.kelahiran.dicatat',
      datacontenttype: 'application/json',
      data: birth(3),
    });
    const post = () =>
      fetch(publishUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body,
      });
    const first = await post();
    const second = await post();
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ duplicate: false });
    expect(second.status).toBe(202);
    expect(await second.json()).toMatchObject({ duplicate: true });
    await receiver.waitFor(before + 1);
    await sleep(500);
    expect(receiver.received.length).toBe(before + 1);
  });

  it('refuses a publish without a token with 401 and a Bearer challenge', async () => {
    const res = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses an application that may not publish with 403, and an unknown topic with 404', async () => {
    const other = await hub.token('faskes-client', 'dinkes');
    const event = { specversion: '1.0', id: 'x', source: '/x', type: 't', data: birth(4) };
    const forbidden = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${other}` },
      body: JSON.stringify(event),
    });
    expect(forbidden.status).toBe(403);
    const missing = await fetch(`${broker.url}/v1/topics/disdukcapil/kematian/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
      body: JSON.stringify(event),
    });
    expect(missing.status).toBe(404);
  });

  it('refuses data that fails the topic schema with 400 naming the error', async () => {
    const res = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ specversion: '1.0', id: 'bad-1', source: '/x', type: 't', data: { nik: '12' } }),
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('SPL_EVENT_SCHEMA');
    expect(problem.detail).toMatch(/name|nik/);
  });

  it('refuses a body that is not a CloudEvent with 400', async () => {
    const res = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(birth(5)),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('SPL_INVALID_EVENT');
  });

  it('refuses an event over the topic size limit with 413, declared or streamed', async () => {
    const big = JSON.stringify({
      specversion: '1.0',
      id: 'big',
      source: '/x',
      type: 't',
      data: { nik: '3171000000000001', name: 'x'.repeat(5000) },
    });
    const res = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
      body: big,
    });
    expect(res.status).toBe(413);
    const chunked = await fetch(publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('serves health, readiness with the Redis state, metrics and the OpenAPI 3.1 document', async () => {
    expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${broker.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', redis: { ok: true } });
    const docs = (await (await fetch(`${broker.url}/docs/json`)).json()) as {
      openapi: string;
      paths: object;
    };
    expect(docs.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(docs.paths)).toContain('/v1/topics/{org}/{topic}/events');
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    expect(metrics).toMatch(/spl_broker_events_published_total\{[^}]*outcome="accepted"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/spl_broker_events_published_total\{[^}]*outcome="duplicate"[^}]*\} 1/);
    expect(metrics).toMatch(/spl_broker_events_published_total\{[^}]*outcome="invalid"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/spl_broker_events_published_total\{[^}]*outcome="too-large"[^}]*\} 2/);
    expect(metrics).toMatch(/spl_broker_events_published_total\{[^}]*outcome="forbidden"[^}]*\} 1/);
    const workerMetrics = await broker.worker!.metrics.metrics();
    expect(workerMetrics).toContain('spl_broker_publish_to_delivery_seconds_bucket');
    expect(workerMetrics).toMatch(/spl_broker_webhook_responses_total\{[^}]*status="204"/);
    expect(workerMetrics).toMatch(/spl_broker_queue_depth\{[^}]*queue="deliver"/);
    expect(workerMetrics).toMatch(
      new RegExp(`spl_broker_deliveries_total\\{[^}]*subscription="${subscriptionId}"`),
    );
  });
});
