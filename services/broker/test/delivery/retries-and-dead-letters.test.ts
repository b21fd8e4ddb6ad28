import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker } from '../helpers/test-broker.js';

const event = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    specversion: '1.0',
    id,
    source: '/disdukcapil/sipduk',
    type: 'go.id.kota.kelahiran.dicatat',
    data: { nik: '3171000000000001', name: 'Bayi' },
    ...extra,
  });

async function publish(broker: TestBroker, token: string, body: string): Promise<Response> {
  return fetch(`${broker.url}/v1/topics/disdukcapil/kelahiran/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
    body,
  });
}

describe('retries, dead letters and replay', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('retries a subscriber that fails three times and then recovers, with the same webhook-id each time', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    receiver.handler = (_r, res, n) => void res.writeHead(n <= 3 ? 503 : 200).end();
    hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    expect((await publish(broker, await hub.token(), event('r-1'))).status).toBe(202);
    await receiver.waitFor(4, 15_000);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    await sleep(300);
    expect(receiver.received).toHaveLength(4);
  });

  it('honours Retry-After from the receiver', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    receiver.handler = (_r, res, n) =>
      void res.writeHead(n === 1 ? 429 : 200, n === 1 ? { 'retry-after': '1' } : {}).end();
    hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    await publish(broker, await hub.token(), event('ra-1'));
    await receiver.waitFor(2, 10_000);
    const gap = receiver.received[1]!.at - receiver.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950); // the schedule alone would wait ≤ 100 ms
  });

  it('dead-letters an event a subscriber never accepts, shows it to the subscriber only, and a replay delivers it', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    let isUp = false;
    receiver.handler = (_r, res) => void res.writeHead(isUp ? 200 : 500).end();
    const { sub } = hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    await publish(broker, await hub.token(), event('dl-1'));
    // 1 first attempt + 4 retries (SPL_BROKER_RETRY_ATTEMPTS=4 in tests)
    await receiver.waitFor(5, 15_000);
    const subscriber = await hub.token('faskes-client', 'dinkes');
    const url = `${broker.url}/v1/subscriptions/${sub.id}/dead-letters`;
    let letters: { deadLetters: Array<{ event: { id: string }; attempts: number; lastError: string }> } = {
      deadLetters: [],
    };
    for (let i = 0; i < 50 && letters.deadLetters.length === 0; i++) {
      await sleep(100);
      letters = (await (
        await fetch(url, { headers: { authorization: `Bearer ${subscriber}` } })
      ).json()) as typeof letters;
    }
    expect(letters.deadLetters).toHaveLength(1);
    expect(letters.deadLetters[0]!.event.id).toBe('dl-1');
    expect(letters.deadLetters[0]!.lastError).toContain('500');

    const stranger = await hub.token('dashboard-client', 'bappeda');
    expect((await fetch(url, { headers: { authorization: `Bearer ${stranger}` } })).status).toBe(403);

    isUp = true;
    const replay = await fetch(`${url}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${subscriber}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ replayed: 1 });
    await receiver.waitFor(6, 10_000);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const after = (await (
      await fetch(url, { headers: { authorization: `Bearer ${subscriber}` } })
    ).json()) as typeof letters;
    expect(after.deadLetters).toHaveLength(0);
  });

  it('disables a subscription that answers 410 Gone and parks its events as dead letters', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    receiver.handler = (_r, res) => void res.writeHead(410).end();
    const { sub } = hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    const token = await hub.token();
    await publish(broker, token, event('g-1'));
    await receiver.waitFor(1);
    await sleep(1500); // the worker re-reads disabled subscriptions every second
    await publish(broker, token, event('g-2'));
    await sleep(500);
    expect(receiver.received).toHaveLength(1);
    const subscriber = await hub.token('faskes-client', 'dinkes');
    const body = (await (
      await fetch(`${broker.url}/v1/subscriptions/${sub.id}/dead-letters`, {
        headers: { authorization: `Bearer ${subscriber}` },
      })
    ).json()) as { disabled: string | null; deadLetters: unknown[] };
    expect(body.disabled).toContain('410');
    expect(body.deadLetters).toHaveLength(1);
  });

  it('suspends a subscription failing longer than the threshold through the registry, tolerating a 404', async () => {
    const calls: Array<{ url: string; body: string; auth: string | undefined }> = [];
    let answer = 404;
    const registry: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/oauth2/token') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ access_token: 'broker-token', expires_in: 300 }));
        }
        calls.push({
          url: req.url!,
          body: Buffer.concat(chunks).toString(),
          auth: req.headers.authorization,
        });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((ok) => registry.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise((ok) => registry.close(() => ok())));
    const registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;

    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    receiver.handler = (_r, res) => void res.writeHead(500).end();
    const { sub } = hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub, {
      env: {
        SPL_REGISTRY_URL: registryUrl,
        SPL_BROKER_CLIENT_ID: 'broker-dataplane',
        SPL_BROKER_CLIENT_SECRET: 'broker-dataplane-secret',
        SPL_BROKER_SUSPEND_AFTER_SECONDS: '1',
        SPL_BROKER_RETRY_ATTEMPTS: '8',
      },
    });
    cleanup.push(() => broker.close());
    await publish(broker, await hub.token(), event('s-1'));
    for (let i = 0; i < 60 && calls.length === 0; i++) await sleep(100);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(`/v1/topic-subscriptions/${sub.id}/suspension`);
    expect(calls[0]!.auth).toBe('Bearer broker-token');
    expect(JSON.parse(calls[0]!.body).reason).toContain('failed since');
    answer = 204;
    expect(await broker.redis.hget(`${broker.prefix}:broker:disabled`, sub.id)).toContain('suspended');
  });
});
