import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { FakeRegistry, stop, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 *   dinkes/ok/v1        → a healthy upstream (header auth X-Api-Key, sealed)
 *   dinkes/garbage/v1   → a TCP server answering bytes that are not HTTP
 *   dinkes/slow/v1      → an upstream that never answers (route timeout 200 ms)
 *   dinkes/down/v1      → a port nobody listens on
 *   dinkes/big/v1       → an upstream answering 1 MiB (streamed back)
 *   portal subscribed to all of them
 */
describe('upstream failures and forwarding', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let ok: TestUpstream;
  let slow: TestUpstream;
  let big: TestUpstream;
  let garbage: TcpServer;
  let downUrl: string;
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    hub = await HubFixture.create();
    ok = await new TestUpstream().start();
    slow = await new TestUpstream().start();
    slow.handler = () => {};
    big = await new TestUpstream().start();
    big.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1 << 20) });
      res.end(Buffer.alloc(1 << 20, 120));
    };
    garbage = createTcpServer((socket) => {
      socket.on('data', () => socket.end('THIS IS NOT HTTP\r\n\r\n'));
    });
    await new Promise<void>((done) => garbage.listen(0, '127.0.0.1', done));
    const garbageUrl = `http://127.0.0.1:${(garbage.address() as { port: number }).port}`;
    const gone = createTcpServer();
    await new Promise<void>((done) => gone.listen(0, '127.0.0.1', done));
    downUrl = `http://127.0.0.1:${(gone.address() as { port: number }).port}`;
    await new Promise((done) => gone.close(done));

    const okRoute = hub.route({ api: 'ok', version: 'v1', urls: [ok.url] });
    okRoute.upstreamAuth = hub.headerAuth(okRoute.id, 'X-Api-Key', 'upstream-secret-value');
    hub.route({ api: 'garbage', version: 'v1', urls: [garbageUrl] });
    hub.route({
      api: 'slow',
      version: 'v1',
      urls: [slow.url],
      upstream: { urls: [slow.url], timeoutMs: 200 },
    });
    hub.route({ api: 'down', version: 'v1', urls: [downUrl] });
    hub.route({ api: 'big', version: 'v1', urls: [big.url] });
    for (const api of ['ok', 'garbage', 'slow', 'down', 'big']) hub.subscribe('app-portal', api, 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildTestGateway({
      registryUrl: registry.url,
      env: { SPL_CIRCUIT_FAILURES: '2', SPL_CIRCUIT_OPEN_SECONDS: '1' },
    });
    token = await hub.token();
  });
  afterAll(async () => {
    await gw?.close();
    for (const u of [ok, slow, big]) await u?.stop();
    garbage?.close();
    await registry?.stop();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

  it('authenticates to the upstream with the opened header secret, replacing a consumer-sent one', async () => {
    ok.seen.length = 0;
    const res = await get('/dinkes/ok/v1/x', { 'x-api-key': 'forged-by-consumer' });
    expect(res.statusCode).toBe(200);
    expect(ok.seen[0]!.headers['x-api-key']).toBe('upstream-secret-value');
  });

  it('relays the upstream status, headers and body', async () => {
    ok.handler = (_req, res) => {
      res
        .writeHead(201, { 'content-type': 'text/plain', 'x-upstream': 'yes', connection: 'keep-alive' })
        .end('made');
    };
    const res = await get('/dinkes/ok/v1/x');
    ok.handler = (req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.body).toBe('made');
  });

  it('streams a large answer through unchanged', async () => {
    const res = await get('/dinkes/big/v1/file');
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(1 << 20);
    expect(res.headers['content-length']).toBe(String(1 << 20));
  });

  it('answers 502 when the upstream answers something that is not HTTP', async () => {
    const res = await get('/dinkes/garbage/v1/x');
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('SPL_BAD_GATEWAY');
  });

  it('answers 504 when the upstream does not answer within the route timeout', async () => {
    const started = Date.now();
    const res = await get('/dinkes/slow/v1/x');
    expect(res.statusCode).toBe(504);
    expect(res.json().code).toBe('SPL_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('answers 503 with Retry-After when the upstream refuses, opens the circuit, and closes it after a good probe', async () => {
    const first = await get('/dinkes/down/v1/x');
    expect(first.statusCode).toBe(503);
    expect(first.json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
    expect(first.headers['retry-after']).toBeTruthy();
    await get('/dinkes/down/v1/x'); // second consecutive failure opens the circuit
    const open = await get('/dinkes/down/v1/x');
    expect(open.statusCode).toBe(503);
    expect(open.json().code).toBe('SPL_CIRCUIT_OPEN');
    expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // The upstream comes back on the same port; after the open period one probe closes the circuit.
    const port = Number(new URL(downUrl).port);
    const server = (await import('node:http')).createServer((_req, res) => res.writeHead(200).end('back'));
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    try {
      await sleep(1100);
      const probe = await get('/dinkes/down/v1/x');
      expect(probe.statusCode).toBe(200);
      expect(probe.body).toBe('back');
      expect((await get('/dinkes/down/v1/x')).statusCode).toBe(200);
    } finally {
      await stop(server);
    }
  });
});

describe('egress', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    upstream = await new TestUpstream().start();
    const port = new URL(upstream.url).port;
    hub.route({ api: 'loopback', version: 'v1', urls: [upstream.url] });
    hub.route({ api: 'byname', version: 'v1', urls: [`http://localhost:${port}`] });
    hub.subscribe('app-portal', 'loopback', 'v1');
    hub.subscribe('app-portal', 'byname', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    // Any public address, but loopback is not listed.
    gw = await buildTestGateway({ registryUrl: registry.url, env: { SPL_EGRESS_ALLOW: '*' } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await registry?.stop();
  });

  it.each(['loopback', 'byname'])(
    'refuses an upstream on a loopback address (%s) that is not listed: 502',
    async (api) => {
      upstream.seen.length = 0;
      const res = await gw.app.inject({
        method: 'GET',
        url: `/dinkes/${api}/v1/x`,
        headers: { authorization: `Bearer ${await hub.token()}` },
      });
      expect(res.statusCode).toBe(502);
      expect(res.json().code).toBe('SPL_EGRESS_REFUSED');
      expect(upstream.seen).toHaveLength(0);
    },
  );
});
