import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_MS } from '../../src/process-setup.js';
import { HubFixture } from '../helpers/hub-fixture.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { sleep } from '../helpers/receiver.js';
import { buildTestBroker, type TestBroker, testEnv } from '../helpers/test-broker.js';
import { spawnWorker, waitForExit } from '../helpers/worker-process.js';

// Found by the soak (docs/soak.md): a delivery worker told to stop after its Redis had gone
// waited in its close for ever — ioredis holds commands for a Redis that is not there. An
// operator stopping the hub (or a supervisor's SIGTERM) must see it exit within the grace.
describe('a delivery worker stopped after its Redis has gone', () => {
  const redis = new OwnRedis();
  let broker: TestBroker;
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    if (worker) await waitForExit(worker);
    // The in-process broker's connections close cleanly only with a Redis to say goodbye to.
    if (broker) {
      await redis.start();
      await broker.close().catch(() => {});
    }
    await redis.stop();
  });

  it(`exits within ${SHUTDOWN_GRACE_MS / 1000} s of SIGTERM instead of waiting for Redis`, async () => {
    await redis.start();
    const hub = await HubFixture.create();
    broker = await buildTestBroker(hub, { redisUrl: redis.url, worker: false });
    const probe = new Redis(redis.url);
    const clients = async () =>
      String(await probe.client('LIST'))
        .trim()
        .split('\n').length;
    const before = await clients();
    worker = spawnWorker(
      testEnv({
        prefix: broker.prefix,
        dataDir: broker.dataDir,
        snapshotFile: broker.snapshotFile,
        redisUrl: redis.url,
      }),
    );
    // Running: its connections (commands and BullMQ's blocking one) are open on this Redis.
    const until = Date.now() + 30_000;
    while ((await clients()) < before + 2 && Date.now() < until) await sleep(100);
    expect(await clients()).toBeGreaterThanOrEqual(before + 2);
    await sleep(500);
    probe.disconnect();

    await redis.kill();
    const stopped = Date.now();
    const exited = new Promise<number | null>((ok) => worker!.once('exit', (code) => ok(code)));
    worker.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - stopped;
    expect(took, 'the worker exits within its grace (plus start-up slack)').toBeLessThan(
      SHUTDOWN_GRACE_MS + 3_000,
    );
    expect(worker.signalCode, 'it exits by itself, not by a signal').toBeNull();
    expect([0, 1]).toContain(code);
  }, 60_000);
});
