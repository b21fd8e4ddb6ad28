import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { buildObservedGateway, type ObservedGateway } from '../helpers/observed-gateway.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';

/** A URL on 127.0.0.1 where nothing listens: connections are refused. */
async function refusedUrl(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return `http://127.0.0.1:${port}`;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 *   dinkes/pair/v1    → [refused A, ok]   round robin from A: every other request meets A first
 *   dinkes/lonely/v1  → [refused B]       one URL: the retry goes to B again
 *   dinkes/slow/v1    → [slow, ok]        slow never answers (timeout 200 ms)
 *   portal subscribed to all three; circuits need 100 failures to open (out of the way here)
 */
describe('retries of idempotent requests', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let ok: TestUpstream;
  let slow: TestUpstream;
  let refusedA: string;
  let refusedB: string;
  let gw: ObservedGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    ok = await new TestUpstream().start();
    ok.handler = (req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${req.body}`);
    slow = await new TestUpstream().start();
    slow.handler = () => {};
    refusedA = await refusedUrl();
    refusedB = await refusedUrl();
    hub.route({ api: 'pair', version: 'v1', urls: [refusedA, ok.url], methods: METHODS });
    hub.route({ api: 'lonely', version: 'v1', urls: [refusedB], methods: METHODS });
    hub.route({
      api: 'slow',
      version: 'v1',
      urls: [slow.url, ok.url],
      upstream: { urls: [slow.url, ok.url], timeoutMs: 200 },
    });
    for (const api of ['pair', 'lonely', 'slow']) hub.subscribe('app-portal', api, 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildObservedGateway({ registryUrl: registry.url, env: { SPL_CIRCUIT_FAILURES: '100' } });
  });
  afterAll(async () => {
    await gw?.close();
    await ok?.stop();
    await slow?.stop();
    await registry?.stop();
  });

  const call = async (method: string, url: string, payload?: string) =>
    gw.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${await hub.token()}`, 'content-type': 'text/plain' },
      ...(payload !== undefined ? { payload } : {}),
    });

  it('answers every GET when one of two upstream URLs refuses connections, retrying on the other', async () => {
    ok.seen.length = 0;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('GET', `/dinkes/pair/v1/item/${i}`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(ok.seen.map((r) => r.url)).toEqual(['/item/0', '/item/1', '/item/2', '/item/3']);
    expect(
      await gw.metric('spl_gateway_upstream_retries_total', { upstream: refusedA, outcome: 'success' }),
    ).toBe(2);
  });

  it('retries PUT and DELETE with the same body', async () => {
    ok.seen.length = 0;
    for (let i = 0; i < 2; i++) {
      const put = await call('PUT', '/dinkes/pair/v1/item/7', `body-${i}`);
      expect(put.statusCode).toBe(200);
      expect(put.body).toBe(`PUT /item/7 body-${i}`);
    }
    for (let i = 0; i < 2; i++) expect((await call('DELETE', '/dinkes/pair/v1/item/7')).statusCode).toBe(200);
    expect(ok.seen).toHaveLength(4);
  });

  it.each(['POST', 'PATCH'])(
    'never retries a %s: the one that met the refusing URL fails',
    async (method) => {
      ok.seen.length = 0;
      const before = await gw.metric('spl_gateway_upstream_retries_total', {
        upstream: refusedA,
        outcome: 'success',
      });
      const answers = [];
      for (let i = 0; i < 2; i++) answers.push(await call(method, '/dinkes/pair/v1/orders', `order-${i}`));
      // Round robin: exactly one of the two went to the refusing URL first.
      const statuses = answers.map((a) => a.statusCode).sort();
      expect(statuses).toEqual([200, 503]);
      expect(answers.find((a) => a.statusCode === 503)!.json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
      expect(ok.seen).toHaveLength(1);
      expect(
        await gw.metric('spl_gateway_upstream_retries_total', { upstream: refusedA, outcome: 'success' }),
      ).toBe(before);
    },
  );

  it('retries a route with one URL on that URL, and answers 503 when the retry fails too', async () => {
    const res = await call('GET', '/dinkes/lonely/v1/x');
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeTruthy();
    expect(
      await gw.metric('spl_gateway_upstream_retries_total', { upstream: refusedB, outcome: 'failure' }),
    ).toBe(1);
  });

  it('does not retry a timeout: 504, the other URL never called', async () => {
    ok.seen.length = 0;
    const res = await call('GET', '/dinkes/slow/v1/x'); // round robin starts at the slow URL
    expect(res.statusCode).toBe(504);
    expect(ok.seen).toHaveLength(0);
  });
});

/**
 *   dinkes/pair/v1 → [refused A, ok]
 *   retry budget: 0 % of requests + 0.1 retries a second over 10 s = one retry in the window
 */
describe('the retry budget', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let ok: TestUpstream;
  let refused: string;
  let gw: ObservedGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    ok = await new TestUpstream().start();
    refused = await refusedUrl();
    hub.route({ api: 'pair', version: 'v1', urls: [refused, ok.url] });
    hub.subscribe('app-portal', 'pair', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildObservedGateway({
      registryUrl: registry.url,
      env: {
        SPL_CIRCUIT_FAILURES: '100',
        SPL_RETRY_BUDGET_PERCENT: '0',
        SPL_RETRY_BUDGET_MIN_PER_SECOND: '0.1',
        SPL_RETRY_BUDGET_WINDOW_SECONDS: '10',
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await ok?.stop();
    await registry?.stop();
  });

  it('stops retrying once the budget is spent, and counts what it did not retry', async () => {
    const get = async () =>
      (
        await gw.app.inject({
          method: 'GET',
          url: '/dinkes/pair/v1/x',
          headers: { authorization: `Bearer ${await hub.token()}` },
        })
      ).statusCode;
    expect(await gw.metric('spl_gateway_upstream_retry_budget_exhausted_total', { upstream: refused })).toBe(
      0,
    );
    // Refused URL first (retried: the one retry of the budget), ok, refused again (no budget left), ok.
    expect([await get(), await get(), await get(), await get()]).toEqual([200, 200, 503, 200]);
    expect(await gw.metric('spl_gateway_upstream_retry_budget_exhausted_total', { upstream: refused })).toBe(
      1,
    );
    expect(
      await gw.metric('spl_gateway_upstream_retries_total', { upstream: refused, outcome: 'success' }),
    ).toBe(1);
  });
});

/**
 *   dinkes/slow/v1 → [slow, ok]   slow never answers (timeout 200 ms)
 *   SPL_RETRY_TIMEOUTS=true
 */
describe('retries of timeouts, when asked for', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let ok: TestUpstream;
  let slow: TestUpstream;
  let gw: ObservedGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    ok = await new TestUpstream().start();
    slow = await new TestUpstream().start();
    slow.handler = () => {};
    hub.route({
      api: 'slow',
      version: 'v1',
      urls: [slow.url, ok.url],
      upstream: { urls: [slow.url, ok.url], timeoutMs: 200 },
    });
    hub.subscribe('app-portal', 'slow', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildObservedGateway({ registryUrl: registry.url, env: { SPL_RETRY_TIMEOUTS: 'true' } });
  });
  afterAll(async () => {
    await gw?.close();
    await ok?.stop();
    await slow?.stop();
    await registry?.stop();
  });

  it('answers a GET from the other URL after the first one timed out', async () => {
    const res = await gw.app.inject({
      method: 'GET',
      url: '/dinkes/slow/v1/x',
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
    expect(res.statusCode).toBe(200);
    expect(slow.seen).toHaveLength(1);
    expect(ok.seen).toHaveLength(1);
    expect(
      await gw.metric('spl_gateway_upstream_retries_total', { upstream: slow.url, outcome: 'success' }),
    ).toBe(1);
  });
});
