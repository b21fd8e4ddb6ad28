import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessFixture,
  as,
  buildOwaspHub,
  DEMO_API,
  DEMO_APP,
  DEMO_SECRETS,
  type Persona,
} from './hub.js';

/**
 * OWASP API3:2023 Broken Object Property Level Authorization, both halves:
 * - mass assignment: a caller allowed to change an object sends properties it may not set
 *   (its organisation, its lifecycle state, a consent's state) hoping they are stored;
 * - excessive data exposure: a read returns properties the caller should not see (secrets,
 *   secret hashes, private keys, sealed upstream credentials).
 *
 * Refused by: BKS 59(7)(a)–(b) and 60(5)(e) (server-side allow-list validation of
 * parameters): every request schema is TypeBox with `additionalProperties: false`, so an
 * unknown property is a 400 and nothing is written; BKS 59(10) and 59(6)(d) (restricted data
 * kept from who may not see it): every response schema is an allow-list (STYLE "A response
 * schema is an allow-list"), secrets are hashed (scrypt) or sealed (AES-256-GCM) at rest and
 * shown once, when made.
 */
describe('API3 BOPLA: mass assignment', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  const attempts: Array<[string, Persona, string, string, Record<string, unknown>]> = [
    [
      'moves its API to another organisation',
      'publisher-own',
      'PATCH',
      `/v1/apis/${DEMO_API}`,
      { org: 'dinkes' },
    ],
    [
      'declassifies and publishes its API in one go',
      'publisher-own',
      'PATCH',
      `/v1/apis/${DEMO_API}`,
      { state: 'published' },
    ],
    [
      'sets its draft version straight to published',
      'publisher-own',
      'PATCH',
      `/v1/apis/${DEMO_API}/versions/v1`,
      { state: 'published' },
    ],
    [
      'moves its application to the hub operator',
      'consumer-own',
      'PATCH',
      `/v1/applications/${DEMO_APP}`,
      { org: 'diskominfo' },
    ],
    [
      'sends its own roles when renaming its application',
      'consumer-own',
      'PATCH',
      `/v1/applications/${DEMO_APP}`,
      { name: 'x', roles: ['operator'] },
    ],
    [
      'asks for access already approved',
      'consumer-own',
      'POST',
      '/v1/subscriptions',
      { application: DEMO_APP, api: DEMO_API, version: 'v1', purpose: 'Ingin cepat', state: 'approved' },
    ],
  ];

  it.each(attempts)(
    'refuses a caller who %s, with 400 and nothing stored',
    async (_what, persona, method, url, payload) => {
      const before = (await fx.asOperator({ method: 'GET', url: '/v1/audit' })).json();
      const res = await as(fx, persona, { method: method as 'PATCH' | 'POST', url, payload });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('SPL_VALIDATION');
      const after = (await fx.asOperator({ method: 'GET', url: '/v1/audit' })).json();
      expect(JSON.stringify(after)).toBe(JSON.stringify(before));
    },
  );

  it('keeps the demo API where and as it was', async () => {
    const api = (await fx.asOperator({ method: 'GET', url: `/v1/apis/${DEMO_API}` })).json();
    expect(api.org).toBe('disdukcapil');
    expect(api.classification).toBe('dikecualikan');
  });
});

describe('API3 BOPLA: excessive data exposure', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  // Every read an operator, auditor or owner makes that lists clients, keys, subscriptions
  // or the hub's content: none may carry a secret, its hash or a private key.
  const reads = [
    '/v1/users',
    '/v1/me',
    `/v1/applications/${DEMO_APP}`,
    '/v1/organisations/dinkes/applications',
    '/v1/subscriptions',
    '/v1/topic-subscriptions',
    '/v1/trusted-issuers',
    '/v1/keys',
    '/v1/export',
    '/v1/audit',
    `/v1/apis/${DEMO_API}/versions/v1`,
    '/oauth2/jwks',
  ];
  const secrets = Object.values(DEMO_SECRETS);

  it.each(reads)('GET %s carries no secret, secret hash or private key', async (url) => {
    for (const persona of ['bootstrap', 'auditor'] as const) {
      const res = await as(fx, persona, { method: 'GET', url });
      expect(res.statusCode, `${persona} ${url}`).toBe(200);
      for (const secret of secrets) expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain(fx.r.bootstrap.clientSecret);
      expect(res.body).not.toMatch(/\$scrypt|"secretHash"|"secret_hash"|"sealed|"privateJwk"|"d":"/i);
    }
  });

  it('shows a new client secret once, in the answer that makes it, and never again', async () => {
    const slug = await fx.application('bopla-once');
    const rotated = await as(fx, 'consumer-own', {
      method: 'POST',
      url: `/v1/applications/dinkes/${slug}/secrets`,
      payload: {},
    });
    expect([200, 201]).toContain(rotated.statusCode);
    const secret = JSON.stringify(rotated.json()).match(/"(?:clientSecret|secret)":"([^"]+)"/)?.[1];
    expect(secret, rotated.body).toBeTruthy();
    for (const url of [`/v1/applications/dinkes/${slug}`, '/v1/export', '/v1/audit']) {
      const res = await as(fx, 'bootstrap', { method: 'GET', url });
      expect(res.body).not.toContain(secret!);
    }
  });

  it('gives a data plane the snapshot with secrets sealed, never in the clear', async () => {
    const res = await as(fx, 'dataplane', { method: 'GET', url: '/v1/snapshot' });
    expect(res.statusCode).toBe(200);
    for (const secret of secrets) expect(res.body).not.toContain(secret);
  });
});
