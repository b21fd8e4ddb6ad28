import { describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { buildTestBroker } from '../helpers/test-broker.js';

const EVENTS = 150;
const RATE_PER_SECOND = 50;

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** Publishes EVENTS at a steady rate; returns the healthy receiver's publish-to-arrival latencies. */
async function measure(withHangingSubscriber: boolean): Promise<number[]> {
  const hub = await HubFixture.create();
  const healthy = await new Receiver().start();
  const hanging = await new Receiver().start();
  hanging.handler = () => {}; // never answers
  const topic = hub.topic();
  hub.push(topic, healthy.url);
  if (withHangingSubscriber) hub.push(topic, hanging.url);
  const broker = await buildTestBroker(hub, { env: { SPL_BROKER_RETRY_BASE_MS: '5000' } });
  try {
    const token = await hub.token();
    const url = `${broker.url}/v1/topics/disdukcapil/kelahiran/events`;
    const sentAt = new Map<string, number>();
    // Warm-up: connections and JIT, not measured.
    for (let i = 0; i < 20; i++)
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          specversion: '1.0',
          id: `w-${i}`,
          source: '/s',
          type: 't',
          data: { nik: '3171000000000001', name: 'x' },
        }),
      });
    await healthy.waitFor(20);
    const start = performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const due = start + (i * 1000) / RATE_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `e-${i}`;
      sentAt.set(id, Date.now());
      sends.push(
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            specversion: '1.0',
            id,
            source: '/s',
            type: 't',
            data: { nik: '3171000000000001', name: 'x' },
          }),
        }),
      );
    }
    await Promise.all(sends);
    await healthy.waitFor(20 + EVENTS, 15_000);
    return healthy.received.slice(20).map((r) => {
      const id = (JSON.parse(r.body) as { id: string }).id;
      return r.at - sentAt.get(id)!;
    });
  } finally {
    await broker.close();
    await healthy.stop();
    await hanging.stop();
  }
}

describe('one hanging subscriber does not slow another', () => {
  it("keeps a healthy subscriber's p99 within twice its p99 alone", async () => {
    const alone = p99(await measure(false));
    const beside = p99(await measure(true));
    console.log(`healthy subscriber p99: alone ${alone} ms, beside a hanging one ${beside} ms`);
    // 2 ms of timer resolution on both sides, so a 3 ms vs 7 ms p99 is not called a regression.
    expect(beside).toBeLessThanOrEqual(2 * Math.max(alone, 5));
  }, 60_000);
});
