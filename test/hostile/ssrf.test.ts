import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubFixture as BrokerHub } from '../../services/broker/test/helpers/hub-fixture.js';
import { buildTestBroker, type TestBroker } from '../../services/broker/test/helpers/test-broker.js';
import { HubFixture as GatewayHub } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../../services/gateway/test/helpers/test-gateway.js';
import { checkWebhookUrl } from '../../services/registry/src/topics/webhook-url.js';

/**
 * Outbound calls to internal addresses (ARCHITECTURE "Outbound calls"; OWASP API7).
 * What was already tested elsewhere, and so is not repeated here:
 *   - gateway upstream on 127.0.0.1 and on `localhost` under SPL_EGRESS_ALLOW=* → 502
 *     (services/gateway/test/upstream/upstream-failures.test.ts)
 *   - federated JWKS: egress refused, https only, redirect not followed
 *     (services/gateway/test/federation/federated-verifier.test.ts)
 *   - the egress policy's ranges (services/gateway/test/config/gateway-config.test.ts)
 * Added here: link-local metadata, private, IPv4-mapped IPv6 and numeric-host upstreams;
 * an upstream's redirect to an internal host; the broker's webhook delivery (by name, to the
 * metadata address, and through a redirect); the registry's webhook URL check for them.
 */

/** A server on an internal address (127.0.0.2: loopback, not listed) that counts its hits. */
async function startInternal(): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"metadata"}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.2', ok));
  return { server, url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, hits };
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('the gateway forwarding to an internal address', () => {
  let hub: GatewayHub;
  let registry: FakeRegistry;
  let upstream: TestUpstream;
  let internal: Awaited<ReturnType<typeof startInternal>>;
  let open: TestGateway;
  let listed: TestGateway;

  beforeAll(async () => {
    hub = await GatewayHub.create();
    upstream = await new TestUpstream().start();
    internal = await startInternal();
    const port = new URL(upstream.url).port;
    const targets: Record<string, string> = {
      metadata: 'http://169.254.169.254',
      private: 'http://10.255.255.1',
      mapped: `http://[::ffff:127.0.0.1]:${port}`,
      // NAT64 and 6to4 forms of the metadata address: on a network with a NAT64 gateway or a
      // 6to4 relay they reach 169.254.169.254.
      nat64: 'http://[64:ff9b::a9fe:a9fe]',
      sixtofour: 'http://[2002:a9fe:a9fe::1]',
      numeric: `http://2130706433:${port}`,
      internal: internal.url,
      redirect: upstream.url,
    };
    for (const [api, url] of Object.entries(targets)) {
      hub.route({ api, version: 'v1', urls: [url], upstream: { urls: [url], timeoutMs: 1000 } });
      hub.subscribe('app-portal', api, 'v1');
    }
    upstream.handler = (_req, res) =>
      res.writeHead(302, { location: `${internal.url}/latest/meta-data` }).end();
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    // Any public host, nothing internal listed.
    open = await buildTestGateway({ registryUrl: registry.url, env: { SPL_EGRESS_ALLOW: '*' } });
    // The quick start's policy: 127.0.0.1 listed, 127.0.0.2 not.
    listed = await buildTestGateway({ registryUrl: registry.url, env: { SPL_EGRESS_ALLOW: '127.0.0.1' } });
  });
  afterAll(async () => {
    await open?.close();
    await listed?.close();
    await upstream?.stop();
    internal?.server.close();
    await registry?.stop();
  });

  const call = async (gw: TestGateway, api: string) =>
    gw.app.inject({
      method: 'GET',
      url: `/dinkes/${api}/v1/latest/meta-data`,
      headers: { authorization: `Bearer ${await hub.token()}` },
    });

  it.each(['metadata', 'private', 'mapped', 'nat64', 'sixtofour', 'numeric', 'internal'])(
    'refuses an upstream at a %s address not listed, with 502 and no connection',
    async (api) => {
      upstream.seen.length = 0;
      internal.hits.length = 0;
      const res = await call(open, api);
      expect(res.statusCode).toBe(502);
      expect(res.json().code).toBe('SPL_EGRESS_REFUSED');
      expect(upstream.seen).toEqual([]);
      expect(internal.hits).toEqual([]);
    },
  );

  it('does not follow an upstream redirect to an internal address: the 302 goes back to the caller', async () => {
    internal.hits.length = 0;
    const res = await call(listed, 'redirect');
    expect(res.statusCode).toBe(302);
    expect(res.body).not.toContain('metadata');
    expect(internal.hits).toEqual([]);
  });

  it('refuses the internal address itself under the quick start policy', async () => {
    const res = await call(listed, 'internal');
    expect(res.statusCode).toBe(502);
    expect(internal.hits).toEqual([]);
  });
});

describe('the broker delivering to an internal address', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const publish = async (broker: TestBroker, hub: BrokerHub, id: string) => {
    const res = await fetch(`${broker.url}/v1/topics/disdukcapil/kelahiran/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        authorization: `Bearer ${await hub.token()}`,
      },
      body: JSON.stringify({
        specversion: '1.0',
        id,
        source: '/disdukcapil/sipduk',
        type: 'go.id.kota.kelahiran.dicatat',
        data: { nik: '3171000000000001', name: 'Bayi' },
      }),
    });
    expect(res.status).toBe(202);
  };

  it.each([
    ['by a name resolving to loopback', (port: number) => `http://localhost:${port}/hook`],
    ['by the loopback address', (port: number) => `http://127.0.0.2:${port}/hook`],
    ['at the metadata address', () => 'http://169.254.169.254/latest/meta-data'],
  ])('never POSTs to a webhook %s that SPL_EGRESS_ALLOW does not list', async (_, urlOf) => {
    const internal = await startInternal();
    const local = await startInternal();
    cleanup.push(async () => {
      internal.server.close();
      local.server.close();
    });
    const hub = await BrokerHub.create();
    const port = Number(new URL(internal.url).port);
    hub.push(hub.topic(), urlOf(port));
    const broker = await buildTestBroker(hub, { env: { SPL_EGRESS_ALLOW: 'webhook.example.go.id' } });
    cleanup.push(() => broker.close());
    await publish(broker, hub, `ssrf-${port}`);
    await sleep(1_500);
    expect(internal.hits).toEqual([]);
  });

  it('does not follow a webhook endpoint redirecting to an internal address', async () => {
    const internal = await startInternal();
    const hits: string[] = [];
    const endpoint = createServer((req, res) => {
      hits.push(req.url!);
      req.resume();
      res.writeHead(307, { location: `${internal.url}/steal` }).end();
    });
    await new Promise<void>((ok) => endpoint.listen(0, '127.0.0.1', ok));
    cleanup.push(async () => {
      internal.server.close();
      endpoint.closeAllConnections();
      endpoint.close();
    });
    const hub = await BrokerHub.create();
    hub.push(hub.topic(), `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`);
    // 127.0.0.2 listed too: only the redirect rule stands between the broker and it.
    const broker = await buildTestBroker(hub, { env: { SPL_EGRESS_ALLOW: '127.0.0.1, 127.0.0.2' } });
    cleanup.push(() => broker.close());
    await publish(broker, hub, 'ssrf-redirect');
    for (let i = 0; i < 40 && hits.length === 0; i++) await sleep(50);
    await sleep(500);
    expect(hits.length).toBeGreaterThan(0);
    expect(internal.hits).toEqual([]);
  });
});

describe('the registry taking a webhook URL', () => {
  const refusal = (url: string) => {
    try {
      checkWebhookUrl(url, { SPL_MODE: 'production', SPL_EGRESS_ALLOW: '*' });
      return null;
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  };

  it.each([
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/hook',
    'https://172.16.5.5/hook',
    'https://192.168.1.1/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:169.254.169.254]/hook',
    'https://[64:ff9b::a9fe:a9fe]/hook',
    'https://[2002:a9fe:a9fe::1]/hook',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
    'https://2130706433/hook',
    'https://0x7f.1/hook',
    'https://localhost/hook',
    'https://0.0.0.0/hook',
  ])('refuses %s under SPL_EGRESS_ALLOW=*', (url) => {
    expect(refusal(url)).toBe('SPL_WEBHOOK_URL_REFUSED');
  });

  it('takes a public host under SPL_EGRESS_ALLOW=* (the control)', () => {
    expect(refusal('https://rujukan.dinkes.example.go.id/hook')).toBeNull();
  });
});
