import { afterAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker } from '../helpers/test-broker.js';

const EVENTS = 2_000;
const PUBLISHERS = 16;

describe('Redis with appendfsync always, killed and restarted mid-stream', () => {
  let broker: TestBroker;
  let receiver: Receiver;
  const redis = new OwnRedis();
  afterAll(async () => {
    await broker?.close().catch(() => {});
    await receiver?.stop();
    await redis.stop();
  });

  it('loses no event it answered 202 for', async () => {
    await redis.start();
    const hub = await HubFixture.create();
    receiver = await new Receiver().start();
    hub.push(hub.topic(), receiver.url);
    broker = await buildTestBroker(hub, { redisUrl: redis.url });
    const token = await hub.token();
    const url = `${broker.url}/v1/topics/disdukcapil/kelahiran/events`;

    let next = 0;
    const accepted = new Set<string>();
    let refused = 0;
    const publishAll = async () => {
      while (next < EVENTS) {
        const id = `a-${next++}`;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
            body: JSON.stringify({
              specversion: '1.0',
              id,
              source: '/s',
              type: 't',
              data: { nik: '3171000000000001', name: 'x' },
            }),
            signal: AbortSignal.timeout(5_000),
          });
          if (res.status === 202) accepted.add(id);
          else {
            refused++;
            await sleep(20);
          }
        } catch {
          refused++;
        }
      }
    };
    const publishing = Promise.all(Array.from({ length: PUBLISHERS }, publishAll));
    while (next < EVENTS / 3) await sleep(10);
    await redis.kill();
    const acceptedBeforeKill = accepted.size;
    await sleep(1_000);
    await redis.start(); // same port, same directory: the AOF is replayed
    await publishing;

    const deadline = Date.now() + 40_000;
    const seen = new Set<string>();
    const missing = () => {
      for (const r of receiver.received) seen.add((JSON.parse(r.body) as { id: string }).id);
      return [...accepted].filter((id) => !seen.has(id));
    };
    while (missing().length > 0 && Date.now() < deadline) await sleep(250);
    console.log(
      `Redis killed after ${acceptedBeforeKill} accepted: ${accepted.size} accepted in all, ${refused} refused while it was down, ${seen.size} distinct delivered, ${receiver.received.length - seen.size} duplicates`,
    );
    expect(refused).toBeGreaterThan(0); // the kill did land mid-stream
    expect(missing()).toEqual([]);
  }, 60_000);
});
