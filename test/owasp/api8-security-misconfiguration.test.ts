import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionProblems as brokerProblems, loadBrokerConfig } from '../../services/broker/src/config.js';
import {
  productionProblems as gatewayProblems,
  loadGatewayConfig,
} from '../../services/gateway/src/config.js';
import {
  loadRegistryConfig,
  productionProblems as registryProblems,
} from '../../services/registry/src/config.js';
import { buildOwaspGateway, type OwaspGateway } from './gateway.js';
import { type AccessFixture, as, buildOwaspHub, DEMO_SECRETS } from './hub.js';

/**
 * OWASP API8:2023 Security Misconfiguration: insecure defaults left on in production, error
 * answers that leak stack traces or internals, permissive CORS, headers that let a browser
 * sniff or frame answers, and an API description that publishes secrets.
 *
 * Refused by: BKS 59(16) and 60(4) (hardening, "no default configurations"), 60(3)(a) and
 * 60(5)(a) (TLS in production), 60(3)(j) (error handling: RFC 9457 problem+json without
 * internals), 59(15) (no leaky URIs), 60(5)(d) (CSRF: no cookies, no CORS grant, so a
 * browser on another origin cannot call with the user's credentials).
 * The start-up refusals are also proven end to end by each service's production tests
 * (services/registry/test/server/production-mode.test.ts,
 * services/gateway/test/tls/production-start.test.ts,
 * services/broker/test/config/production-redis.test.ts); here the rules themselves.
 */
describe('API8 production refuses insecure defaults', () => {
  it('registry: no master key, http public URL, embedded store, placeholder secrets', () => {
    expect(
      registryProblems(loadRegistryConfig({ SPL_MODE: 'production', SPL_PUBLIC_URL: 'http://hub' })).join(
        '\n',
      ),
    ).toMatch(/SPL_MASTER_KEY[\s\S]*SPL_PUBLIC_URL[\s\S]*DATABASE_URL/);
    const placeholders = registryProblems(
      loadRegistryConfig({
        SPL_MODE: 'production',
        SPL_PUBLIC_URL: 'https://spl.example.go.id',
        SPL_MASTER_KEY: 'REPLACE-ME-openssl-rand-base64-32-aaaaaaaaaaaaaaa',
        DATABASE_URL: 'postgres://spl:REPLACE-ME@127.0.0.1:5432/spl',
      }),
    );
    expect(placeholders.join('\n')).toMatch(/SPL_MASTER_KEY still holds a placeholder/);
  });

  it('gateway: plain HTTP without TLS or a declared TLS proxy, http public URL, no master key', () => {
    const problems = gatewayProblems(
      loadGatewayConfig({
        SPL_MODE: 'production',
        SPL_PUBLIC_URL: 'http://hub',
        SPL_REGISTRY_URL: 'http://127.0.0.1:8081',
        SPL_GATEWAY_CLIENT_ID: 'g',
        SPL_GATEWAY_CLIENT_SECRET: 'gateway-dataplane-secret-0123456789',
      }),
    ).join('\n');
    expect(problems).toMatch(/SPL_MASTER_KEY/);
    expect(problems).toMatch(/SPL_PUBLIC_URL must be an https/);
    expect(problems).toMatch(/SPL_TLS_CERT_FILE and SPL_TLS_KEY_FILE/);
  });

  it('broker: plain HTTP without a declared TLS proxy', () => {
    const problems = brokerProblems(
      loadBrokerConfig({
        SPL_MODE: 'production',
        SPL_PUBLIC_URL: 'https://hub.example.go.id',
        SPL_REGISTRY_URL: 'http://127.0.0.1:8081',
        SPL_BROKER_CLIENT_ID: 'b',
        SPL_BROKER_CLIENT_SECRET: 'broker-dataplane-secret-0123456789',
      }),
    ).join('\n');
    expect(problems).toMatch(/SPL_MASTER_KEY/);
    expect(problems).toMatch(/SPL_BEHIND_TLS_PROXY/);
  });
});

describe('API8 at the registry', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  const internals = /\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d+|stack|SELECT |postgres:\/\//i;

  it('answers bad JSON, an unknown route and a wrong content type with problem+json and no internals', async () => {
    const answers = [
      await as(fx, 'bootstrap', {
        method: 'POST',
        url: '/v1/organisations',
        headers: { 'content-type': 'application/json' },
        payload: '{"slug": "x",',
      }),
      await as(fx, 'bootstrap', { method: 'GET', url: '/v1/no-such-thing' }),
      await as(fx, 'bootstrap', {
        method: 'POST',
        url: '/v1/organisations',
        headers: { 'content-type': 'application/xml' },
        payload: '<x/>',
      }),
      await as(fx, 'bootstrap', { method: 'GET', url: "/v1/apis/disdukcapil/kependudukan'%20OR%201=1--" }),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).not.toMatch(internals);
    }
  });

  it('does not announce its framework', async () => {
    const res = await as(fx, 'anonymous', { method: 'GET', url: '/healthz' });
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers.server).toBeUndefined();
  });

  it('sends nosniff, and forbids framing of its HTML pages', async () => {
    for (const url of ['/healthz', '/status', '/docs']) {
      const res = await as(fx, 'anonymous', { method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
    const html = await as(fx, 'anonymous', { method: 'GET', url: '/status' });
    expect(html.headers['x-frame-options']).toBe('DENY');
  });

  it('grants no cross-origin access: a preflight or a read from another origin gets no CORS headers', async () => {
    const preflight = await as(fx, 'anonymous', {
      method: 'OPTIONS',
      url: '/v1/organisations',
      headers: {
        origin: 'https://evil.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    const read = await as(fx, 'bootstrap', {
      method: 'GET',
      url: '/v1/organisations',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
    expect(read.headers['set-cookie']).toBeUndefined();
  });

  it('publishes an OpenAPI document without secrets, connection strings or internal hosts', async () => {
    const res = await as(fx, 'anonymous', { method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    for (const secret of [...Object.values(DEMO_SECRETS), fx.r.bootstrap.clientSecret])
      expect(res.body).not.toContain(secret);
    expect(res.body).not.toMatch(/postgres:\/\/|redis:\/\/|SPL_MASTER_KEY|BEGIN (EC |RSA )?PRIVATE KEY/);
  });
});

describe('API8 at the gateway', () => {
  let g: OwaspGateway;
  beforeAll(async () => {
    g = await buildOwaspGateway();
  });
  afterAll(async () => g?.close());

  it('answers its own errors as problem+json without internals, and grants no CORS', async () => {
    const res = await g.gw.app.inject({
      method: 'OPTIONS',
      url: '/dinkes/faskes/v1/x',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'GET' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const bad = await g.gw.app.inject({
      method: 'GET',
      url: '/dinkes/faskes/v1/x',
      headers: { authorization: 'Bearer x.y.z' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).not.toMatch(/\.ts:\d+|node_modules|stack/i);
    expect(bad.headers['x-powered-by']).toBeUndefined();
  });
});
