import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SECRETS, loadDemoHub } from '../helpers/demo-hub.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

const SECRETS = DEMO_SECRETS;

describe('spl apply of the demo hub', () => {
  let r: TestRegistry;
  const doc = loadDemoHub();
  const auditCount = async () =>
    (await r.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log'))[0]!.n;
  const apply = async (token: string, body: unknown = doc, query = '') =>
    r.app.inject({
      method: 'POST',
      url: `/v1/apply${query}`,
      headers: bearer(token),
      payload: body as object,
    });
  const tokenOf = (clientId: string, secretName: string) => r.token(clientId, SECRETS[secretName]!);

  beforeAll(async () => {
    r = await buildTestRegistry();
  });
  afterAll(async () => r?.close());

  it('refuses a document with an unknown field and writes nothing', async () => {
    const before = await auditCount();
    const res = await apply(await r.operatorToken(), { ...doc, extras: true });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(await auditCount()).toBe(before);
  });

  it('writes nothing on a dry run', async () => {
    const before = await auditCount();
    const res = await apply(await r.operatorToken(), doc, '?dryRun=true');
    expect(res.statusCode).toBe(200);
    expect(res.json().dryRun).toBe(true);
    expect(res.json().items.some((i: { result: string }) => i.result === 'created')).toBe(true);
    expect(await auditCount()).toBe(before);
  });

  it('lets the bootstrap operator create everything but stops at the first approval', async () => {
    const res = await apply(await r.operatorToken());
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<{ kind: string; id: string; result: string; detail?: string }>;
    expect(items.find((i) => i.kind === 'organisation' && i.id === 'disdukcapil')?.result).toBe('created');
    const version = items.filter((i) => i.kind === 'api_version' && i.id === 'disdukcapil/kependudukan/v1');
    expect(version.map((i) => i.result)).toEqual(['created', 'transitioned']);
    expect(version[1]!.detail).toMatch(/submit.*approve/s);
    expect(items.find((i) => i.kind === 'subscription')?.result).toBe('pending');
    expect(res.json().issuedCredentials).toEqual([]);
  });

  it('moves through each gate only with the person whose act it is, then is idempotent', async () => {
    const passes: Array<[string, string]> = [
      ['demo-operator', 'SPL_DEMO_OPERATOR_SECRET'],
      ['demo-reviewer', 'SPL_DEMO_REVIEWER_SECRET'],
      ['demo-publisher', 'SPL_DEMO_PUBLISHER_SECRET'],
      ['demo-consumer', 'SPL_DEMO_CONSUMER_OWNER_SECRET'],
      ['demo-publisher', 'SPL_DEMO_PUBLISHER_SECRET'],
    ];
    for (const [clientId, secret] of passes) {
      const res = await apply(await tokenOf(clientId, secret));
      expect(res.statusCode, `${clientId}: ${res.body}`).toBe(200);
    }
    const operator = await r.operatorToken();
    const version = await r.app.inject({
      url: '/v1/apis/disdukcapil/kependudukan/versions/v1',
      headers: bearer(operator),
    });
    expect(version.json().state).toBe('published');
    const history = (
      await r.app.inject({
        url: '/v1/apis/disdukcapil/kependudukan/versions/v1/transitions',
        headers: bearer(operator),
      })
    ).json();
    expect(history.map((t: { action: string }) => t.action)).toEqual([
      'submit',
      'approve',
      'approve',
      'publish',
    ]);

    const subs = (await r.app.inject({ url: '/v1/subscriptions', headers: bearer(operator) })).json();
    const list = Array.isArray(subs) ? subs : subs.items;
    expect(list).toHaveLength(1);
    expect(list[0].state).toBe('approved');

    const before = await auditCount();
    for (const token of [operator, await tokenOf('demo-publisher', 'SPL_DEMO_PUBLISHER_SECRET')]) {
      const again = await apply(token);
      expect(again.json().changed).toBe(false);
    }
    expect(await auditCount()).toBe(before);
  });

  it('lets a person who cannot see the live subscriptions apply the whole file: those items are refused, nothing changes', async () => {
    const before = await auditCount();
    const res = await apply(await tokenOf('demo-reviewer', 'SPL_DEMO_REVIEWER_SECRET'));
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as Array<{ kind: string; result: string }>;
    expect(items.filter((i) => i.kind === 'subscription').map((i) => i.result)).toEqual(['refused']);
    expect(items.filter((i) => i.kind === 'topic_subscription').map((i) => i.result)).toEqual(['refused']);
    expect(res.json().changed).toBe(false);
    expect(await auditCount()).toBe(before);
  });

  it('exports a document that applies back without a change and holds no secret', async () => {
    const operator = await r.operatorToken();
    const exported = await r.app.inject({ url: '/v1/export', headers: bearer(operator) });
    expect(exported.statusCode).toBe(200);
    for (const secret of Object.values(SECRETS)) expect(exported.body).not.toContain(secret);
    expect(exported.body).not.toContain('scrypt$');
    const before = await auditCount();
    const again = await apply(operator, exported.json());
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().changed).toBe(false);
    expect(await auditCount()).toBe(before);
  });

  it('lets the demo consumer application get a token', async () => {
    const token = await tokenOf('dinkes-sistem-rujukan', 'SPL_DEMO_CONSUMER_SECRET');
    const me = (await r.app.inject({ url: '/v1/me', headers: bearer(token) })).json();
    expect(me).toMatchObject({ org: 'dinkes', roles: ['consumer'] });
  });
});
