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

async function call(broker: TestBroker, token: string, path: string, body: unknown) {
  const res = await fetch(`${broker.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Pulled = { events: Array<{ ackId: string; event: { id: string } }> };

describe('pull subscriptions, replay, filters and back-pressure', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('leases events, redelivers the unacknowledged after the lease, and forgets the acknowledged', async () => {
    const hub = await HubFixture.create();
    const sub = hub.pull(hub.topic());
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    const token = await hub.token();
    for (const id of ['p-1', 'p-2', 'p-3'])
      expect((await publish(broker, token, event(id))).status).toBe(202);
    const reader = await hub.token('dashboard-client', 'bappeda');
    const path = `/v1/subscriptions/${sub.id}`;
    let first: Pulled = { events: [] };
    for (let i = 0; i < 50 && first.events.length < 3; i++) {
      await sleep(50);
      const r = await call(broker, reader, `${path}/pull`, { max: 10, leaseSeconds: 1 });
      first = { events: [...first.events, ...(r.body as Pulled).events] };
    }
    expect(first.events.map((e) => e.event.id).sort()).toEqual(['p-1', 'p-2', 'p-3']);
    // Leased: nothing more now.
    expect(
      ((await call(broker, reader, `${path}/pull`, { max: 10, leaseSeconds: 1 })).body as Pulled).events,
    ).toEqual([]);
    const byId = new Map(first.events.map((e) => [e.event.id, e.ackId]));
    expect((await call(broker, reader, `${path}/ack`, { ackIds: [byId.get('p-1')] })).body).toEqual({
      count: 1,
    });
    expect((await call(broker, reader, `${path}/nack`, { ackIds: [byId.get('p-2')] })).body).toEqual({
      count: 1,
    });
    // The nacked one is back at once.
    const again = (await call(broker, reader, `${path}/pull`, { max: 10, leaseSeconds: 1 })).body as Pulled;
    expect(again.events.map((e) => e.event.id)).toEqual(['p-2']);
    await sleep(1100);
    // After the lease: both unacknowledged ones come back, the acknowledged one never.
    const late = (await call(broker, reader, `${path}/pull`, { max: 10, leaseSeconds: 30 })).body as Pulled;
    expect(late.events.map((e) => e.event.id).sort()).toEqual(['p-2', 'p-3']);
    const ack = await call(broker, reader, `${path}/ack`, { ackIds: late.events.map((e) => e.ackId) });
    expect(ack.body).toEqual({ count: 2 });
    // Only the subscribing application may pull.
    expect((await call(broker, token, `${path}/pull`, { max: 1, leaseSeconds: 1 })).status).toBe(403);
  });

  it('replays the events of the topic from a point in time to a push subscriber', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    const { sub } = hub.push(hub.topic(), receiver.url);
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    const token = await hub.token();
    await publish(broker, token, event('old-1'));
    await receiver.waitFor(1);
    await sleep(20);
    const from = new Date().toISOString();
    await sleep(20);
    await publish(broker, token, event('new-1'));
    await publish(broker, token, event('new-2'));
    await receiver.waitFor(3);
    const subscriber = await hub.token('faskes-client', 'dinkes');
    const r = await call(broker, subscriber, `/v1/subscriptions/${sub.id}/replay`, { from });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ replayed: 2, next: null });
    await receiver.waitFor(5);
    const replayed = receiver.received.slice(3).map((x) => (JSON.parse(x.body) as { id: string }).id);
    expect(replayed.sort()).toEqual(['new-1', 'new-2']);
    // The same webhook-id as the first delivery: the receiver can tell it has seen it.
    const firstIds = receiver.received
      .slice(1, 3)
      .map((x) => x.headers['webhook-id'])
      .sort();
    expect(
      receiver.received
        .slice(3)
        .map((x) => x.headers['webhook-id'])
        .sort(),
    ).toEqual(firstIds);
  });

  it('delivers only the types and subject prefixes a subscription asks for', async () => {
    const hub = await HubFixture.create();
    const receiver = await new Receiver().start();
    cleanup.push(() => receiver.stop());
    const { sub } = hub.push(hub.topic(), receiver.url, {
      types: ['go.id.kota.kelahiran.dicatat'],
      subjectPrefixes: ['kec-01/'],
    });
    const broker = await buildTestBroker(hub);
    cleanup.push(() => broker.close());
    const token = await hub.token();
    await publish(broker, token, event('f-1', { subject: 'kec-01/a' }));
    await publish(broker, token, event('f-2', { subject: 'kec-02/a' }));
    await publish(
      broker,
      token,
      event('f-3', { subject: 'kec-01/b', type: 'go.id.kota.kelahiran.dikoreksi' }),
    );
    await publish(broker, token, event('f-4'));
    await receiver.waitFor(1);
    await sleep(400);
    expect(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(['f-1']);
    // A replay applies the same filters.
    const subscriber = await hub.token('faskes-client', 'dinkes');
    const r = await call(broker, subscriber, `/v1/subscriptions/${sub.id}/replay`, {
      from: '2020-01-01T00:00:00Z',
    });
    expect(r.body).toMatchObject({ replayed: 1 });
    await receiver.waitFor(2);
    expect((JSON.parse(receiver.received[1]!.body) as { id: string }).id).toBe('f-1');
  });

  it('answers 429 with Retry-After past the publisher limit', async () => {
    const hub = await HubFixture.create();
    hub.topic({ limits: { publishPerMinute: 2 } });
    const broker = await buildTestBroker(hub, { worker: false });
    cleanup.push(() => broker.close());
    const token = await hub.token();
    expect((await publish(broker, token, event('l-1'))).status).toBe(202);
    expect((await publish(broker, token, event('l-2'))).status).toBe(202);
    const limited = await publish(broker, token, event('l-3'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers 503 with Retry-After once the backlog passes SPL_BROKER_MAX_BACKLOG', async () => {
    const hub = await HubFixture.create();
    hub.topic();
    const broker = await buildTestBroker(hub, { worker: false, env: { SPL_BROKER_MAX_BACKLOG: '3' } });
    cleanup.push(() => broker.close());
    const token = await hub.token();
    for (let i = 0; i < 3; i++) expect((await publish(broker, token, event(`b-${i}`))).status).toBe(202);
    await sleep(250); // the backlog is sampled every 100 ms
    const full = await publish(broker, token, event('b-4'));
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(((await full.json()) as { code: string }).code).toBe('SPL_BACKLOG_FULL');
  });
});
