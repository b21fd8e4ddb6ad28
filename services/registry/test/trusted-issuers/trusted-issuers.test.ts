import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/auth/principal.js';
import type { TrustedIssuerInput } from '../../src/routes/trusted-issuers/schemas.js';
import { applyTrustedIssuer } from '../../src/trusted-issuers/trusted-issuer-store.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { call, countRows, expectProblem } from '../subscriptions/api-fixtures.js';

const splp: TrustedIssuerInput & { description: string } = {
  slug: 'splp',
  issuer: 'https://splp.example.go.id/oauth2',
  jwksUrl: 'https://splp.example.go.id/oauth2/jwks',
  audience: 'https://hub.example.go.id',
  algorithms: ['ES256', 'RS256'],
  clientClaim: 'azp',
  description: 'SPLP nasional',
};

describe('trusted issuers', () => {
  let r: TestRegistry;
  let operator: string;
  let publisher: string;
  beforeAll(async () => {
    r = await buildTestRegistry();
    operator = await r.operatorToken();
    await r.organisation('bapenda');
    publisher = (await r.person({ org: 'bapenda', roles: ['publisher', 'consumer'] })).token;
  });
  afterAll(async () => r?.close());

  it('lets an operator register an issuer that anyone may read', async () => {
    const res = await call(r, operator, 'POST', '/v1/trusted-issuers', splp);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ ...splp });
    const list = await call(r, publisher, 'GET', '/v1/trusted-issuers');
    expect(list.json().map((i: { slug: string }) => i.slug)).toEqual(['splp']);
    expect((await call(r, publisher, 'GET', '/v1/trusted-issuers/splp')).json().clientClaim).toBe('azp');
  });

  it('refuses writes by a publisher with 403', async () => {
    expectProblem(await call(r, publisher, 'POST', '/v1/trusted-issuers', { ...splp, slug: 'x' }), 403);
    expectProblem(await call(r, publisher, 'PATCH', '/v1/trusted-issuers/splp', { description: 'x' }), 403);
    expectProblem(await call(r, publisher, 'DELETE', '/v1/trusted-issuers/splp'), 403);
  });

  it.each([
    ['the none algorithm', { algorithms: ['none'] }],
    ['a shared-secret algorithm', { algorithms: ['HS256'] }],
    ['no algorithm', { algorithms: [] }],
    ['an issuer that is no URL', { issuer: 'splp nasional' }],
    ['an ftp JWKS URL', { jwksUrl: 'ftp://splp.example.go.id/jwks' }],
    ['a plain-http JWKS URL off loopback', { jwksUrl: 'http://splp.example.go.id/jwks' }],
    ['an unknown field', { secret: 'x' }],
    ['a client claim with spaces', { clientClaim: 'client id' }],
  ])('refuses %s with 400 and writes nothing', async (_name, change) => {
    const rows = await countRows(r, 'trusted_issuers');
    const audit = await countRows(r, 'audit_log');
    const res = await call(r, operator, 'POST', '/v1/trusted-issuers', { ...splp, slug: 'other', ...change });
    expectProblem(res, 400);
    expect(await countRows(r, 'trusted_issuers')).toBe(rows);
    expect(await countRows(r, 'audit_log')).toBe(audit);
  });

  it('refuses malformed JSON and a wrong content type with problem+json', async () => {
    const headers = { authorization: `Bearer ${operator}` };
    const bad = await r.app.inject({
      method: 'POST',
      url: '/v1/trusted-issuers',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"slug": ',
    });
    expectProblem(bad, 400, 'SPL_MALFORMED_BODY');
    const text = await r.app.inject({
      method: 'POST',
      url: '/v1/trusted-issuers',
      headers: { ...headers, 'content-type': 'text/plain' },
      payload: 'slug=x',
    });
    expectProblem(text, 415, 'SPL_UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts a loopback http issuer in development mode (a local stand-in for SPLP)', async () => {
    const res = await call(r, operator, 'POST', '/v1/trusted-issuers', {
      ...splp,
      slug: 'local',
      issuer: 'http://127.0.0.1:9999',
      jwksUrl: 'http://127.0.0.1:9999/jwks',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect((await call(r, operator, 'DELETE', '/v1/trusted-issuers/local')).statusCode).toBe(204);
  });

  it('writes and records nothing for a patch that changes nothing', async () => {
    const audit = await countRows(r, 'audit_log');
    const res = await call(r, operator, 'PATCH', '/v1/trusted-issuers/splp', { audience: splp.audience });
    expect(res.statusCode).toBe(200);
    expect(await countRows(r, 'audit_log')).toBe(audit);
    const changed = await call(r, operator, 'PATCH', '/v1/trusted-issuers/splp', { algorithms: ['ES256'] });
    expect(changed.json().algorithms).toEqual(['ES256']);
    const [entry] = await r.db.query<{ action: string; before: { algorithms: string[] } }>(
      'SELECT action, before FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(entry).toMatchObject({
      action: 'trusted-issuer.update',
      before: { algorithms: ['ES256', 'RS256'] },
    });
  });

  it('refuses to delete an issuer while an application is bound to it', async () => {
    const created = await call(r, publisher, 'POST', '/v1/organisations/bapenda/applications', {
      slug: 'pajak-splp',
      name: 'Pajak via SPLP',
      federated: { issuer: 'splp', clientClaimValue: 'bapenda-pajak' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const res = await call(r, operator, 'DELETE', '/v1/trusted-issuers/splp');
    expectProblem(res, 409, 'SPL_CONFLICT');
    expect(res.json().detail).toContain('bapenda/pajak-splp');
  });

  it('applies an issuer declaratively: created, then unchanged with no audit record, then updated', async () => {
    const input = { ...splp, slug: 'jabar', issuer: 'https://hub.jabarprov.go.id' };
    const apply = () =>
      r.ctx.mutate(SYSTEM_ACTOR, (tx, audit) => applyTrustedIssuer(tx, audit, input, r.ctx.clock()));
    expect((await apply()).result).toBe('created');
    const audit = await countRows(r, 'audit_log');
    expect((await apply()).result).toBe('unchanged');
    expect(await countRows(r, 'audit_log')).toBe(audit);
    input.audience = 'spl-jabar';
    expect((await apply()).result).toBe('updated');
    expect(await countRows(r, 'audit_log')).toBe(audit + 1);
  });
});
