import { HubFixture } from '../../services/gateway/test/helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../../services/gateway/test/helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../../services/gateway/test/helpers/test-gateway.js';

export { HubFixture, TestUpstream };

/**
 * The OWASP suite's gateway: the gateway tests' miniature hub (a snapshot served by a
 * stand-in registry), a real upstream on port 0, a real gateway on its own Redis prefix.
 *
 *   dinkes ─ faskes ─┬─ v1 published   → upstream (body limit 1024, 600/min)
 *                    └─ v2 deprecated  → upstream, Sunset 2027-01-01
 *   dinkes ─ rahasia ── v1 published, dikecualikan  → upstream
 *   disdukcapil ─ portal (portal-client) ─┬─ faskes v1, v2 approved
 *                                         └─ (nothing on rahasia)
 *   bappeda ─ dashboard (dashboard-client) ── faskes v1 suspended
 *
 * `configure(hub, upstream)` may add routes before the snapshot is served.
 */
export interface OwaspGateway {
  hub: HubFixture;
  upstream: TestUpstream;
  registry: FakeRegistry;
  gw: TestGateway;
  close(): Promise<void>;
}

export async function buildOwaspGateway(
  options: { env?: Record<string, string>; configure?: (hub: HubFixture, upstreamUrl: string) => void } = {},
): Promise<OwaspGateway> {
  const hub = await HubFixture.create();
  const upstream = await new TestUpstream().start();
  hub.route({ api: 'faskes', version: 'v1', urls: [upstream.url] });
  hub.route({
    api: 'faskes',
    version: 'v2',
    urls: [upstream.url],
    state: 'deprecated',
    sunsetAt: '2027-01-01T00:00:00.000Z',
  });
  hub.route({ api: 'rahasia', version: 'v1', urls: [upstream.url], classification: 'dikecualikan' });
  hub.subscribe('app-portal', 'faskes', 'v1');
  hub.subscribe('app-portal', 'faskes', 'v2');
  hub.subscribe('app-dashboard', 'faskes', 'v1', 'suspended');
  options.configure?.(hub, upstream.url);
  const registry = await new FakeRegistry().start();
  registry.snapshot = hub.snapshot();
  const gw = await buildTestGateway({ registryUrl: registry.url, ...(options.env ? { env: options.env } : {}) });
  return {
    hub,
    upstream,
    registry,
    gw,
    async close() {
      await gw.close();
      await upstream.stop();
      await registry.stop();
    },
  };
}
