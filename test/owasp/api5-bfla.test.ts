import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessFixture, as, buildOwaspHub, type Persona } from './hub.js';

/**
 * OWASP API5:2023 Broken Function Level Authorization: a caller with a valid token of a
 * lesser role calls an administrative function — rotate the hub's signing key, register
 * people (and so make itself operator), trust a new token issuer, mint data-plane clients,
 * read the audit trail — or tries to get there by method override.
 *
 * Refused by: BKS 59(6)(c) (a separate admin interface: operator functions sit behind the
 * `operator` role), 60(3)(f) (authorisation limits), 30(5)(d) (the mapping of roles to
 * rights, docs/roles.md). Every route declares its rule on itself (`config.access`) and a
 * route without one refuses to register (plugins/access-control.ts); the access matrix
 * (services/registry/test/access/access-matrix.test.ts) checks every route × persona. This
 * file keeps the attacker's view: the functions that would hand over the hub.
 */
describe('API5 BFLA: administrative functions called with a lesser role', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  const lesser: Persona[] = ['publisher-own', 'consumer-own', 'auditor', 'reviewer', 'dataplane'];
  const adminFunctions: Array<[string, 'POST' | 'PUT' | 'DELETE' | 'GET', string, Record<string, unknown>?]> =
    [
      ['rotate the signing key', 'POST', '/v1/keys/rotate'],
      [
        'register a person as operator',
        'POST',
        '/v1/users',
        { username: 'bfla-escalate', name: 'Escalate', org: 'diskominfo', roles: ['operator'] },
      ],
      [
        'trust a token issuer of its own',
        'POST',
        '/v1/trusted-issuers',
        {
          slug: 'evil',
          issuer: 'https://evil.example.com',
          jwksUrl: 'https://evil.example.com/jwks',
          audience: 'spl',
          algorithms: ['ES256'],
          clientClaim: 'client_id',
        },
      ],
      ['mint a data-plane client', 'POST', '/v1/dataplane-clients', { name: 'bfla' }],
      [
        'create an organisation',
        'POST',
        '/v1/organisations',
        { slug: 'bfla-org', name: 'BFLA', kind: 'perangkat-daerah' },
      ],
      ['set the SPBE roster', 'PUT', '/v1/spbe/roster', { members: [] }],
    ];

  it.each(adminFunctions)(
    'refuses a lesser role to %s with 403 (401 without a token)',
    async (_what, method, url, payload) => {
      expect((await as(fx, 'anonymous', { method, url, ...(payload ? { payload } : {}) })).statusCode).toBe(
        401,
      );
      for (const persona of lesser) {
        const res = await as(fx, persona, { method, url, ...(payload ? { payload } : {}) });
        // Not 400: the role is checked before the body, so a probe learns nothing of the schema.
        expect(res.statusCode, `${persona} ${method} ${url}: ${res.body}`).toBe(403);
      }
    },
  );

  it('refuses the audit trail to publishers, consumers and data planes, and keeps it for auditors', async () => {
    for (const persona of ['publisher-own', 'consumer-own', 'dataplane'] as const)
      expect((await as(fx, persona, { method: 'GET', url: '/v1/audit' })).statusCode).toBe(403);
    expect((await as(fx, 'auditor', { method: 'GET', url: '/v1/audit' })).statusCode).toBe(200);
  });

  it('does not let a method-override header turn a read into a delete', async () => {
    const res = await as(fx, 'auditor', {
      method: 'GET',
      url: '/v1/trusted-issuers/splp-test',
      headers: { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE' },
    });
    expect(res.statusCode).toBe(200);
    const still = await fx.asOperator({ method: 'GET', url: '/v1/trusted-issuers/splp-test' });
    expect(still.statusCode).toBe(200);
  });

  it('has an access rule on every route, so no function ships unprotected', () => {
    const routes = fx.r.app.routeAccess;
    expect(routes.length).toBeGreaterThan(50);
    for (const route of routes) expect(route.access, `${route.method} ${route.url}`).toBeDefined();
    const publicRoutes = routes
      .filter((r) => 'public' in r.access && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url}`)
      .filter((r) => !r.includes(' /docs'));
    // The public surface, written down: anything new here must be a deliberate choice.
    expect(publicRoutes.sort()).toEqual(
      [
        'GET /.well-known/oauth-authorization-server',
        'GET /healthz',
        'GET /metrics',
        'GET /oauth2/jwks',
        'GET /readyz',
        'GET /status',
        'POST /oauth2/token',
      ].sort(),
    );
  });
});
