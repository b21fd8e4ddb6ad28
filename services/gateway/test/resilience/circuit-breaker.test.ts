import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture } from '../helpers/hub-fixture.js';
import { buildObservedGateway, type ObservedGateway } from '../helpers/observed-gateway.js';
import { FakeRegistry, stop } from '../helpers/servers.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 *   dinkes/down/v1 → [D]   nothing listens on D at first; later an upstream starts there
 *   passive health only (no active checks); 2 transport failures open the circuit for 1 s
 */
describe('the circuit breaker fed by real traffic', () => {
  let hub: HubFixture;
  let registry: FakeRegistry;
  let port: number;
  let origin: string;
  let gw: ObservedGateway;

  beforeAll(async () => {
    hub = await HubFixture.create();
    const probe = createTcpServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    port = (probe.address() as { port: number }).port;
    await new Promise((ok) => probe.close(ok));
    origin = `http://127.0.0.1:${port}`;
    hub.route({ api: 'down', version: 'v1', urls: [origin] });
    hub.subscribe('app-portal', 'down', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    gw = await buildObservedGateway({
      registryUrl: registry.url,
      env: { SPL_CIRCUIT_FAILURES: '2', SPL_CIRCUIT_OPEN_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await registry?.stop();
  });

  const call = async (method: string) =>
    gw.app.inject({
      method,
      url: '/dinkes/down/v1/x',
      headers: { authorization: `Bearer ${await hub.token()}` },
    });
  const circuit = (state: string) =>
    gw.metric('spl_gateway_upstream_circuit_state', { upstream: origin, state });

  it('opens after consecutive failures, shows it in /metrics, and closes after a good probe', async () => {
    expect(await circuit('closed')).toBe(1);
    expect(await gw.metric('spl_gateway_upstream_up', { upstream: origin })).toBe(1);

    // One POST (never retried) is one failure; the circuit is still closed.
    expect((await call('POST')).json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
    expect(await circuit('closed')).toBe(1);
    // A GET fails, is retried on the same URL and fails again: the second failure opens it.
    expect((await call('GET')).json().code).toBe('SPL_UPSTREAM_UNAVAILABLE');
    expect(await circuit('open')).toBe(1);
    expect(await gw.metric('spl_gateway_upstream_up', { upstream: origin })).toBe(0);
    const refused = await call('GET');
    expect(refused.statusCode).toBe(503);
    expect(refused.json().code).toBe('SPL_CIRCUIT_OPEN');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const server = createServer((_req, res) => res.writeHead(200).end('back'));
    await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
    try {
      await sleep(1100);
      const probe = await call('GET');
      expect(probe.statusCode).toBe(200);
      expect(await circuit('closed')).toBe(1);
      expect(await circuit('open')).toBe(0);
      expect(await gw.metric('spl_gateway_upstream_up', { upstream: origin })).toBe(1);
    } finally {
      await stop(server);
    }
  });
});
