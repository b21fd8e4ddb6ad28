import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { buildObservedGateway, eventually, type ObservedGateway } from '../helpers/observed-gateway.js';
import { FakeRegistry, type SeenRequest, stop, TestUpstream } from '../helpers/servers.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** An upstream that answers 200 on `host:port`, recording what reached it. */
async function serve(port: number, seen: SeenRequest[] = [], host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
    res.writeHead(200).end('back');
  });
  await new Promise<void>((ok) => server.listen(port, host, ok));
  return server;
}

/**
 *   dinkes/solo/v1     → [A]            health path /health; A stops and comes back on its port
 *   dinkes/duo/v1      → [B, ok/base]   B refuses connections (never listened)
 *   dinkes/flaky/v1    → [D]            down at first, comes back later
 *   dinkes/gone/v1     → [G]            leaves the snapshot
 *   dinkes/outside/v1  → [127.0.0.2]    not in SPL_EGRESS_ALLOW (127.0.0.1 only)
 *   probes every 200 ms; one transport failure opens a circuit for 60 s
 */
describe('active health checks', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let ok: TestUpstream;
  let gone: TestUpstream;
  let portA: number;
  let serverA: Server | undefined;
  const seenA: SeenRequest[] = [];
  let urlB: string;
  let portD: number;
  let serverD: Server | undefined;
  let outside: Server;
  const seenOutside: SeenRequest[] = [];
  let urlOutside = '';
  let gw: ObservedGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    ok = await new TestUpstream().start();
    gone = await new TestUpstream().start();
    portA = await freePort();
    serverA = await serve(portA, seenA);
    urlB = `http://127.0.0.1:${await freePort()}`;
    portD = await freePort();
    const portOutside = await freePort();
    outside = await serve(portOutside, seenOutside, '127.0.0.2'); // loopback too, but not listed
    urlOutside = `http://127.0.0.2:${portOutside}`;
    hub.route({
      api: 'solo',
      version: 'v1',
      urls: [`http://127.0.0.1:${portA}`],
      upstream: { urls: [`http://127.0.0.1:${portA}`], timeoutMs: 2000, healthPath: '/health' },
    });
    hub.route({ api: 'duo', version: 'v1', urls: [urlB, `${ok.url}/base`] });
    hub.route({ api: 'flaky', version: 'v1', urls: [`http://127.0.0.1:${portD}`] });
    hub.route({ api: 'gone', version: 'v1', urls: [gone.url] });
    hub.route({ api: 'outside', version: 'v1', urls: [urlOutside] });
    for (const api of ['solo', 'duo', 'flaky', 'gone', 'outside']) hub.subscribe('app-portal', api, 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildObservedGateway({
      registryUrl: registry.url,
      env: {
        SPL_HEALTH_CHECK_SECONDS: '0.2',
        SPL_HEALTH_CHECK_TIMEOUT_MS: '500',
        SPL_CIRCUIT_FAILURES: '1',
        SPL_CIRCUIT_OPEN_SECONDS: '60',
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    for (const server of [serverA, serverD, outside]) if (server?.listening) await stop(server);
    await ok?.stop();
    await gone?.stop();
    await registry?.stop();
  });

  const call = async (method: string, url: string) =>
    gw.app.inject({ method, url, headers: { authorization: `Bearer ${await hub.token()}` } });
  const up = (upstream: string) => gw.metric('spl_gateway_upstream_up', { upstream });

  it('probes each upstream with HEAD on its health path, or on the URL’s own path', async () => {
    expect(await eventually(async () => seenA.length > 0 && ok.seen.length > 0)).toBe(true);
    expect(seenA[0]).toMatchObject({ method: 'HEAD', url: '/health' });
    expect(ok.seen[0]).toMatchObject({ method: 'HEAD', url: '/base' });
  });

  it('shows an upstream that stops answering as down in /metrics, and up again once it is back', async () => {
    const origin = `http://127.0.0.1:${portA}`;
    expect(await up(origin)).toBe(1);
    await stop(serverA!);
    expect(await eventually(async () => (await up(origin)) === 0)).toBe(true);
    serverA = await serve(portA, seenA);
    expect(await eventually(async () => (await up(origin)) === 1)).toBe(true);
    expect((await call('GET', '/dinkes/solo/v1/x')).statusCode).toBe(200);
  });

  it('lets a route with two URLs skip the one found down: every POST, never retried, succeeds', async () => {
    expect(await eventually(async () => (await up(urlB)) === 0)).toBe(true);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call('POST', '/dinkes/duo/v1/orders')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(ok.seen.filter((r) => r.method === 'POST')).toHaveLength(6);
  });

  it('closes an open circuit as soon as a probe reaches the upstream again, long before its 60 s', async () => {
    const origin = `http://127.0.0.1:${portD}`;
    expect((await call('GET', '/dinkes/flaky/v1/x')).json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
    expect(await gw.metric('spl_gateway_upstream_circuit_state', { upstream: origin, state: 'open' })).toBe(
      1,
    );
    expect(await up(origin)).toBe(0);
    const refused = await call('GET', '/dinkes/flaky/v1/x');
    expect(refused.statusCode).toBe(503);
    expect(refused.json().code).toBe('SPL_CIRCUIT_OPEN');

    serverD = await serve(portD);
    expect(
      await eventually(
        async () =>
          (await gw.metric('spl_gateway_upstream_circuit_state', { upstream: origin, state: 'closed' })) ===
          1,
      ),
    ).toBe(true);
    expect(await up(origin)).toBe(1);
    const back = await call('GET', '/dinkes/flaky/v1/x');
    expect(back.statusCode).toBe(200);
    expect(back.body).toBe('back');
  });

  it('probes through the egress allow-list: an address not listed is never reached and shows down', async () => {
    expect(await eventually(async () => (await up(urlOutside)) === 0)).toBe(true);
    expect(seenOutside).toHaveLength(0);
  });

  it('stops probing an upstream that left the snapshot, and drops its series', async () => {
    expect(await eventually(async () => gone.seen.some((r) => r.method === 'HEAD'))).toBe(true);
    hub.routes = hub.routes.filter((r) => r.api !== 'gone');
    hub.version++;
    registry.snapshot = hub.snapshot();
    await gw.runtime.refresh();
    expect(gw.runtime.status().version).toBe(hub.version);
    await sleep(100); // a probe already on its way may still land
    gone.seen.length = 0;
    await sleep(700);
    expect(gone.seen).toHaveLength(0);
    expect(await up(gone.url)).toBeUndefined();
  });
});
