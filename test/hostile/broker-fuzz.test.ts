import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../../services/broker/test/helpers/hub-fixture.js';
import { buildTestBroker, type TestBroker } from '../../services/broker/test/helpers/test-broker.js';
import { countEventKeys } from './helpers/broker-keys.js';
import { LogCapture } from './helpers/log-capture.js';
import { fuzzOperations, listOperations, printReport } from './helpers/openapi-fuzz.js';

/**
 * Every operation of the broker's /docs/json fuzzed with hostile requests, as the publisher
 * (sipduk) and as a pull subscriber (dashboard):
 *
 *   disdukcapil/kelahiran ── sipduk publishes ──► pull subscription of dashboard
 *
 * Oracle: never 5xx, every 4xx problem+json, /healthz 200, and no event accepted from a
 * refused publish (the topic's stream length unchanged by a 4xx).
 */
describe('the broker under hostile input', () => {
  let hub: HubFixture;
  let broker: TestBroker;
  const logs = new LogCapture();
  const secrets: string[] = [];

  beforeAll(async () => {
    hub = await HubFixture.create();
    hub.pull(hub.topic());
    broker = await buildTestBroker(hub, { worker: false, logger: logs.logger });
  });
  afterAll(async () => broker?.close());

  it('answers every operation with a 4xx problem+json or a success, never 5xx, and keys no event it refused', async () => {
    const doc = (await broker.api.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const operations = listOperations(doc);
    expect(operations.length).toBeGreaterThan(3);
    const publisher = await hub.token();
    const reader = await hub.token('dashboard-client', 'bappeda');
    secrets.push(publisher, reader);
    const keyCount = () => countEventKeys(broker);
    let before = await keyCount();
    const report = await fuzzOperations({
      service: 'broker',
      operations,
      tokens: [publisher, reader],
      numRuns: Number(process.env.SPL_FUZZ_RUNS ?? 25),
      inject: (req) => broker.api.app.inject(req),
      afterCase: async (c, res) => {
        const after = await keyCount();
        const added = after - before;
        before = after;
        if (!c.op.path.endsWith('/events')) return null;
        if (res.statusCode >= 400 && added > 0)
          return `refused with ${res.statusCode} but added ${added} Redis keys`;
        return null;
      },
    });
    printReport(report);
    expect((await broker.api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(report.failures).toEqual([]);
  });

  it('wrote no token it was given to its log', () => {
    expect(logs.leaks(secrets)).toEqual([]);
  });
});
