import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker, testEnv } from '../helpers/test-broker.js';
import { spawnWorker, waitForExit } from '../helpers/worker-process.js';

// 5,000 by default to keep the file well under a minute on shared CPUs; SPL_TEST_KILL_EVENTS=10000
// runs the full size (measured: 10,000 accepted, 10,000 delivered, 10–27 duplicates, 35–41 s).
const EVENTS = Number(process.env.SPL_TEST_KILL_EVENTS ?? 5_000);
const PUBLISHERS = 32;

describe('a delivery worker killed mid-stream', () => {
  let broker: TestBroker;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map(waitForExit));
    await broker?.close();
    await receiver?.stop();
  });

  it(`loses none of ${EVENTS} events when SIGKILLed and restarted`, async () => {
    const hub = await HubFixture.create();
    receiver = await new Receiver().start();
    hub.push(hub.topic(), receiver.url);
    broker = await buildTestBroker(hub, { worker: false });
    const env = testEnv({
      prefix: broker.prefix,
      dataDir: broker.dataDir,
      snapshotFile: broker.snapshotFile,
    });
    children.push(spawnWorker(env));
    const token = await hub.token();
    const url = `${broker.url}/v1/topics/disdukcapil/kelahiran/events`;

    let next = 0;
    const accepted = new Set<string>();
    const publishAll = async () => {
      while (next < EVENTS) {
        const id = `k-${next++}`;
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
        });
        if (res.status === 202) accepted.add(id);
        else await sleep(10);
      }
    };
    const publishing = Promise.all(Array.from({ length: PUBLISHERS }, publishAll));

    // Kill the worker once deliveries are flowing, well before the stream ends.
    while (receiver.received.length < EVENTS / 5) await sleep(20);
    const killedAt = receiver.received.length;
    children[0]!.kill('SIGKILL');
    await waitForExit(children[0]!);
    await sleep(500);
    children.push(spawnWorker(env));
    await publishing;

    const deadline = Date.now() + 45_000;
    const seen = new Map<string, number>();
    const unseen = () => {
      seen.clear();
      for (const r of receiver.received) {
        const id = (JSON.parse(r.body) as { id: string }).id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      return [...accepted].filter((id) => !seen.has(id));
    };
    while (unseen().length > 0 && Date.now() < deadline) await sleep(250);
    const duplicates = receiver.received.length - seen.size;
    console.log(
      `worker SIGKILLed after ${killedAt} deliveries: ${accepted.size} events accepted, ${seen.size} distinct delivered, ${duplicates} duplicate deliveries`,
    );
    expect(accepted.size).toBe(EVENTS);
    expect(unseen()).toEqual([]);
  }, 90_000);
});
