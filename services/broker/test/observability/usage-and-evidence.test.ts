import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvidenceLog, verifyEvidenceDir } from '@spl/evidence-log';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeliveryRecorder, createPublishRecorder } from '../../src/evidence/event-evidence.js';
import { createEventUsage, type EventUsageRecordJson } from '../../src/usage/event-usage.js';
import { HubFixture } from '../helpers/hub-fixture.js';
import { Receiver } from '../helpers/receiver.js';
import { buildTestBroker, TEST_REDIS_URL, type TestBroker } from '../helpers/test-broker.js';

describe('usage records and the evidence log of events', () => {
  let broker: TestBroker;
  let receiver: Receiver;
  let dir: string;
  const redis = new Redis(TEST_REDIS_URL);
  const stream = `test-${randomBytes(5).toString('hex')}:usage:stream`;
  afterAll(async () => {
    await broker?.close();
    await receiver?.stop();
    await redis.del(stream);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes per-minute usage records in the gateway shape and a verifiable digest chain', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spl-broker-evidence-'));
    const hub = await HubFixture.create();
    receiver = await new Receiver().start();
    const topic = hub.topic();
    hub.push(topic, receiver.url);
    const apiEvidence = createEvidenceLog({ dir: join(dir, 'broker'), instanceId: 'api-1' });
    const workerEvidence = createEvidenceLog({ dir: join(dir, 'broker-worker'), instanceId: 'worker-1' });
    const usage = createEventUsage({ redis, stream, flushIntervalMs: 60_000 });
    let table: TestBroker['api']['runtime']['table'] = () => null;
    broker = await buildTestBroker(hub, {
      apiObserver: createPublishRecorder({ evidence: apiEvidence, usage }),
      workerObserver: createDeliveryRecorder({ evidence: workerEvidence, usage, table: () => table() }),
    });
    table = broker.api.runtime.table;
    const token = await hub.token();
    for (const id of ['u-1', 'u-2', 'u-2'])
      await fetch(`${broker.url}/v1/topics/disdukcapil/kelahiran/events`, {
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
    await receiver.waitFor(2);
    await usage.close();
    await apiEvidence.close();
    await workerEvidence.close();

    const entries = await redis.xrange(stream, '-', '+');
    const records = entries.map(([, fields]) => JSON.parse(fields[1]!) as EventUsageRecordJson);
    const byOutcome = Object.fromEntries(records.map((r) => [r.outcome, r]));
    expect(byOutcome.accepted).toMatchObject({
      v: 1,
      kind: 'event',
      routeId: topic.id,
      org: 'disdukcapil',
      api: 'kelahiran',
      version: 'events',
      applicationId: 'app-sipduk',
      statusClass: '2xx',
      count: 2,
    });
    expect(byOutcome.duplicate).toMatchObject({ count: 1, statusClass: '2xx' });
    expect(byOutcome.delivered).toMatchObject({ applicationId: 'app-faskes', count: 2 });
    for (const r of records) {
      expect(r.recordId).toMatch(/^[0-9a-f]{64}$/);
      expect(r.latency).toHaveLength(11);
      expect(r.issuer).toBe('');
    }

    const verdicts = [
      ...verifyEvidenceDir(join(dir, 'broker')),
      ...verifyEvidenceDir(join(dir, 'broker-worker')),
    ];
    expect(verdicts).toHaveLength(2);
    for (const v of verdicts) expect(v.ok).toBe(true);
    expect(verdicts.map((v) => v.records)).toEqual([2, 2]);
  });
});
