import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestRegistry,
  type TestRegistry,
} from '../../services/registry/test/helpers/test-registry.js';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';

/**
 * OWASP API4:2023 Unrestricted Resource Consumption: request floods, bodies and tokens
 * larger than anything legitimate, pages that ask for the whole table.
 *
 * Refused by: BKS 60(3)(c) ("anti distributed denial of service": a per-IP flood guard in
 * front of authentication, SPL_FLOOD_PER_SECOND / SPL_FLOOD_BURST), 59(13) (anti-automation:
 * per-application rate limits from the subscription's plan, shared across gateway instances
 * in Redis), 59(10)(b) and 59(14) (parameter and size limits: the plan's bodyLimitBytes,
 * SPL_OPENAPI_MAX_BYTES on the registry, `limit` capped at 200).
 */
describe('API4 at the gateway', () => {
  let g: OwaspGateway;
  let token: string;
  beforeAll(async () => {
    g = await buildOwaspGateway({
      configure: (hub, url) => {
        hub.route({
          api: 'sempit',
          version: 'v1',
          urls: [url],
          plan: { requestsPerMinute: 2, bodyLimitBytes: 1024 },
        });
        hub.subscribe('app-portal', 'sempit', 'v1');
      },
    });
    token = await g.hub.token();
  });
  afterAll(async () => g?.close());

  it("refuses calls past the plan's rate with 429 and Retry-After, without reaching the upstream", async () => {
    const call = () => g.gw.app.inject({ method: 'GET', url: '/dinkes/sempit/v1/x', headers: bearer(token) });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call());
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    const limited = answers.find((r) => r.statusCode === 429)!;
    expect(limited, statuses.join()).toBeDefined();
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(g.upstream.seen.filter((s) => s.url.startsWith('/x')).length).toBe(2);
  });

  it("refuses a body over the plan's limit with 413 by its Content-Length, before reading it", async () => {
    const res = await g.gw.app.inject({
      method: 'POST',
      url: '/dinkes/faskes/v1/x',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
  });

  it('refuses an oversized bearer token before parsing it', async () => {
    const res = await g.gw.app.inject({
      method: 'GET',
      url: '/dinkes/faskes/v1/x',
      headers: { authorization: `Bearer ${'a'.repeat(20_000)}.${'b'.repeat(20_000)}.c` },
    });
    expect([401, 431]).toContain(res.statusCode);
  });
});

describe('API4 flood guard at the gateway (anti-DDoS, before any token is read)', () => {
  let g: OwaspGateway;
  beforeAll(async () => {
    g = await buildOwaspGateway({ flood: { perSecond: 1, burst: 3 } });
  });
  afterAll(async () => g?.close());

  it('answers 429 to one address past its burst, whatever it asks for', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await g.gw.app.inject({ method: 'GET', url: '/dinkes/faskes/v1/x' })).statusCode);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toContain(429);
  });

  // BKS 59(6)(b), 59(13)(e): the refusals are counted for the SplGatewayFloodGuardRefusing
  // alert (deploy/prometheus/rules/spl-alerts.yml), scraped here from another address.
  it('counts every refusal in spl_gateway_flood_refused_total', async () => {
    const before = await floodRefused();
    let refused = 0;
    for (let i = 0; i < 5; i++)
      if ((await g.gw.app.inject({ method: 'GET', url: '/dinkes/faskes/v1/x' })).statusCode === 429)
        refused++;
    expect(refused).toBeGreaterThan(0);
    expect((await floodRefused()) - before).toBe(refused);
  });

  async function floodRefused(): Promise<number> {
    const res = await g.gw.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.9.8.7' });
    expect(res.statusCode).toBe(200);
    return Number(/^spl_gateway_flood_refused_total(?:\{[^}]*\})? (\d+)$/m.exec(res.body)?.[1]);
  }
});

describe('API4 at the registry', () => {
  let r: TestRegistry;
  let token: string;
  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_OPENAPI_MAX_BYTES: '4096' } });
    token = await r.operatorToken();
  });
  afterAll(async () => r?.close());

  it('refuses a body over SPL_OPENAPI_MAX_BYTES with 413 problem+json', async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/organisations',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ slug: 'besar', name: 'x'.repeat(10_000), kind: 'perangkat-daerah' }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a page larger than 200 items instead of reading the whole catalogue', async () => {
    const res = await r.app.inject({ method: 'GET', url: '/v1/apis?limit=1000000', headers: bearer(token) });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a search string longer than 200 characters', async () => {
    const res = await r.app.inject({
      method: 'GET',
      url: `/v1/apis?q=${'a'.repeat(5000)}`,
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(400);
  });
});
