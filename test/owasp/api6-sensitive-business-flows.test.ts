import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessFixture, as, buildOwaspHub, DEMO_API, type Persona } from './hub.js';

/**
 * OWASP API6:2023 Unrestricted Access to Sensitive Business Flows: the hub's sensitive
 * flows are the approval gates and the data owner's consent. The attacks: a publisher
 * grants its own kelaikan, jumps a gate, lets a shared client approve so no person answers
 * for it; a consumer consents to its own request for access; a declarative apply declares
 * `state: published` / `state: approved` hoping to land there in one step.
 *
 * Refused by: BBU 15(3)(c)–(d), BKS 22(3)(c)–(d), MUE 28(6)(b), BKT 27(3)(c)–(d) (kelaikan
 * operasi and kelaikan keamanan granted by their approvers: SPL_APPROVER_KELAIKAN_*),
 * BKT 20(2), BTM 16(2), MUE 16(2) (the owning PD consents), MUE 26(2)(b) (every process
 * authorised and auditable: approvals and consents are a named person's act), BKS 60(3)(f).
 * lifecycle/transitions.ts `checkTransition`; docs/roles.md; docs/declarative.md "No way
 * around the gates".
 */
describe('API6 sensitive business flows: the approval gates and consent', () => {
  let fx: AccessFixture;
  beforeAll(async () => {
    fx = await buildOwaspHub();
  });
  afterAll(async () => fx?.close());

  const transition = (persona: Persona, version: string, action: string) =>
    as(fx, persona, {
      method: 'POST',
      url: `/v1/apis/${DEMO_API}/versions/${version}/transitions`,
      payload: { action },
    });
  const stateOf = async (version: string) =>
    (await fx.asOperator({ method: 'GET', url: `/v1/apis/${DEMO_API}/versions/${version}` })).json().state;
  const dataplaneRoutes = async () =>
    JSON.stringify((await as(fx, 'dataplane', { method: 'GET', url: '/v1/snapshot' })).json());

  it('does not let a publisher grant kelaikan to its own submission, or publish past the gates', async () => {
    const version = await fx.draftVersion('v-self');
    expect((await transition('publisher-own', version, 'submit')).statusCode).toBe(200);
    const selfApprove = await transition('publisher-own', version, 'approve');
    expect(selfApprove.statusCode).toBe(403);
    const jump = await transition('publisher-own', version, 'publish');
    expect(jump.statusCode).toBe(409);
    expect(jump.json().code).toBe('SPL_INVALID_TRANSITION');
    expect(await stateOf(version)).toBe('submitted');
    expect(await dataplaneRoutes()).not.toContain('"v-self"');
  });

  it('keeps each gate to its approver: the reviewer cannot grant kelaikan operasi, the operator not kelaikan keamanan', async () => {
    const version = await fx.draftVersion('v-gates');
    expect((await transition('publisher-own', version, 'submit')).statusCode).toBe(200);
    expect((await transition('reviewer', version, 'approve')).statusCode).toBe(403);
    expect((await transition('operator', version, 'approve')).statusCode).toBe(200);
    expect(await stateOf(version)).toBe('kelaikan_operasi');
    expect((await transition('operator', version, 'approve')).statusCode).toBe(403);
    expect((await transition('publisher-own', version, 'publish')).statusCode).toBe(409);
    expect(await stateOf(version)).toBe('kelaikan_operasi');
  });

  it('refuses an approval by the shared bootstrap client: a named person must answer for it', async () => {
    const version = await fx.draftVersion('v-shared');
    expect((await transition('publisher-own', version, 'submit')).statusCode).toBe(200);
    const res = await transition('bootstrap', version, 'approve');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('SPL_PERSON_REQUIRED');
  });

  it('does not let the applicant consent to its own request for access', async () => {
    const id = await fx.pendingSubscription('self-consent');
    const res = await as(fx, 'consumer-own', {
      method: 'POST',
      url: `/v1/subscriptions/${id}/decision`,
      payload: { decision: 'approve', reason: 'Saya setuju sendiri' },
    });
    expect(res.statusCode).toBe(403);
    const sub = await fx.asOperator({ method: 'GET', url: `/v1/subscriptions/${id}` });
    expect(sub.json().state).toBe('pending');
  });

  it('does not let a declarative apply skip the gates: `state: published` stops where the caller may not go on', async () => {
    const hub = structuredClone(fx.hub) as { apis: Array<Record<string, unknown>> } & Record<string, unknown>;
    const [api] = hub.apis;
    const [v1] = api!.versions as Array<Record<string, unknown>>;
    api!.versions = [{ ...v1, version: 'v-apply', state: 'published' }];
    const res = await as(fx, 'publisher-own', {
      method: 'POST',
      url: '/v1/apply',
      payload: { apiVersion: hub.apiVersion, apis: [api] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const items = (res.json().items as Array<{ id: string; result: string; detail?: string }>).filter((i) =>
      i.id.endsWith('/v-apply'),
    );
    // Created, submitted (the publisher's own step), and stopped at the operator's gate.
    expect(items.map((i) => i.result)).toEqual(['created', 'transitioned']);
    expect(items[1]!.detail).toMatch(/now submitted; waiting to approve: kelaikan operasi/);
    expect(await stateOf('v-apply')).toBe('submitted');
    expect(await dataplaneRoutes()).not.toContain('"v-apply"');
  });
});
