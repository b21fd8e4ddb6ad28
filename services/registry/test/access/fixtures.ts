import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { DEMO_SECRETS, loadDemoHub } from '../helpers/demo-hub.js';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';

/**
 * The fixture of the access matrix: the demo hub (demo/hub.yaml) applied through every
 * approval gate, one token per persona, and helpers that make throwaway resources for the
 * cells that change or destroy something.
 */

export const PERSONAS = [
  'anonymous',
  'bootstrap',
  'operator',
  'reviewer',
  'auditor',
  'publisher-own',
  'publisher-other',
  'consumer-own',
  'consumer-other',
  'dataplane',
] as const;
export type Persona = (typeof PERSONAS)[number];

/**
 * Who each persona is. "Own" is the organisation the sample request acts on: disdukcapil
 * for API routes (it publishes disdukcapil/kependudukan), dinkes for application and
 * subscription routes (it owns dinkes/sistem-rujukan and its approved subscription).
 */
export const WHO: Record<Persona, { org: string | null; roles: readonly string[]; person: boolean }> = {
  anonymous: { org: null, roles: [], person: false },
  bootstrap: { org: 'diskominfo', roles: ['operator'], person: false },
  operator: { org: 'diskominfo', roles: ['operator'], person: true },
  reviewer: { org: 'diskominfo', roles: ['reviewer'], person: true },
  auditor: { org: 'diskominfo', roles: ['auditor'], person: true },
  'publisher-own': { org: 'disdukcapil', roles: ['publisher'], person: true },
  'publisher-other': { org: 'bpjs-kesehatan', roles: ['publisher'], person: true },
  'consumer-own': { org: 'dinkes', roles: ['consumer'], person: true },
  'consumer-other': { org: 'bpjs-kesehatan', roles: ['consumer'], person: true },
  dataplane: { org: 'diskominfo', roles: ['dataplane'], person: false },
};

export { DEMO_SECRETS, loadDemoHub };

export const DEMO_API = 'disdukcapil/kependudukan';
export const DEMO_APP = 'dinkes/sistem-rujukan';
export const DEMO_APP_CLIENT = {
  clientId: 'dinkes-sistem-rujukan',
  secret: DEMO_SECRETS.SPL_DEMO_CONSUMER_SECRET!,
};
export const TRUSTED_ISSUER = 'splp-test';
/** A dikecualikan event topic of disdukcapil, published, with an approved push subscription of DEMO_APP. */
export const DEMO_TOPIC = 'disdukcapil/kelahiran';
export const TOPIC_SCHEMA = {
  type: 'object',
  required: ['nomorAkta'],
  properties: { nomorAkta: { type: 'string' } },
};

export function trustedIssuerInput(slug: string) {
  return {
    slug,
    issuer: `https://${slug}.splp.example.go.id`,
    jwksUrl: `https://${slug}.splp.example.go.id/.well-known/jwks.json`,
    audience: 'spl-hub',
    algorithms: ['ES256'],
    clientClaim: 'client_id',
    description: 'fixture issuer of the access matrix',
  };
}

export interface AccessFixture {
  r: TestRegistry;
  /** The hub document as applied (the demo API with classification dikecualikan). */
  hub: Record<string, unknown>;
  /** The demo OpenAPI document, for versions made by the cells. */
  openapi: string;
  tokens: Record<Persona, string | undefined>;
  /** The approved subscription of dinkes/sistem-rujukan to disdukcapil/kependudukan v1. */
  subscriptionId: string;
  /** Sends a request as the bootstrap operator; throws unless it answers 2xx. */
  asOperator(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A draft version of the demo API, made by the bootstrap operator. */
  draftVersion(version: string): Promise<string>;
  /** An application of dinkes with SPL credentials, made by the bootstrap operator. */
  application(slug: string): Promise<string>;
  /** A pending subscription of a fresh dinkes application to the demo API v1; its id. */
  pendingSubscription(appSlug: string): Promise<string>;
  /** A trusted issuer nothing is bound to. */
  trustedIssuer(slug: string): Promise<string>;
  /** The approved push subscription of DEMO_APP to DEMO_TOPIC. */
  topicSubscriptionId: string;
  /** A draft topic of disdukcapil, made by the bootstrap operator. */
  draftTopic(slug: string): Promise<string>;
  /** A subscription of a fresh dinkes application to DEMO_TOPIC: pending, or approved by the operator person. */
  topicSubscription(appSlug: string, state: 'pending' | 'approved'): Promise<string>;
  close(): Promise<void>;
}

export async function buildAccessFixture(): Promise<AccessFixture> {
  const r = await buildTestRegistry();
  try {
    const operator = await r.operatorToken();
    const asOperator = async (options: InjectOptions) => {
      const res = await r.app.inject({ ...options, headers: { ...options.headers, ...bearer(operator) } });
      if (res.statusCode < 200 || res.statusCode > 299)
        throw new Error(`${options.method} ${options.url}: ${res.statusCode} ${res.body}`);
      return res;
    };

    // The demo hub through every gate, each pass by the person whose act it is.
    const demo = loadDemoHub();
    const passes: Array<[string, string]> = [
      [r.bootstrap.clientId, r.bootstrap.clientSecret],
      ['demo-operator', DEMO_SECRETS.SPL_DEMO_OPERATOR_SECRET!],
      ['demo-reviewer', DEMO_SECRETS.SPL_DEMO_REVIEWER_SECRET!],
      ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
      ['demo-consumer', DEMO_SECRETS.SPL_DEMO_CONSUMER_OWNER_SECRET!],
      ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
    ];

    for (const [clientId, secret] of passes) {
      const res = await r.app.inject({
        method: 'POST',
        url: '/v1/apply',
        headers: bearer(await r.token(clientId, secret)),
        payload: demo,
      });
      if (res.statusCode !== 200) throw new Error(`apply as ${clientId}: ${res.statusCode} ${res.body}`);
    }

    // The demo API made dikecualikan, so that who may see it splits own from other: its
    // owner, readers of everything, and dinkes (approved subscription) see it; no one else.
    await asOperator({
      method: 'PATCH',
      url: `/v1/apis/${DEMO_API}`,
      payload: { classification: 'dikecualikan' },
    });
    const [demoApi] = demo.apis as Array<Record<string, unknown>>;
    demoApi!.classification = 'dikecualikan';
    const [demoVersion] = demoApi!.versions as Array<Record<string, unknown>>;
    const openapi = demoVersion!.openapi as string;

    const subs = (await asOperator({ method: 'GET', url: '/v1/subscriptions' })).json() as Array<{
      id: string;
      application: string;
      state: string;
    }>;
    const approved = subs.find((s) => s.application === DEMO_APP && s.state === 'approved');
    if (!approved) throw new Error(`no approved subscription of ${DEMO_APP}: ${JSON.stringify(subs)}`);

    await asOperator({
      method: 'POST',
      url: '/v1/trusted-issuers',
      payload: trustedIssuerInput(TRUSTED_ISSUER),
    });

    const dataplane = (
      await asOperator({ method: 'POST', url: '/v1/dataplane-clients', payload: { name: 'access-matrix' } })
    ).json() as { clientId: string; clientSecret: string };

    const tokens = { anonymous: undefined, bootstrap: operator } as Record<Persona, string | undefined>;
    tokens.dataplane = await r.token(dataplane.clientId, dataplane.clientSecret);
    for (const persona of PERSONAS) {
      const who = WHO[persona];
      if (!who.person) continue;
      tokens[persona] = (
        await r.person({ org: who.org!, roles: [...who.roles], username: `mx-${persona}` })
      ).token;
    }

    // The demo topic through the gates, each by the person whose act it is.
    await asOperator({
      method: 'POST',
      url: '/v1/organisations/disdukcapil/topics',
      payload: { slug: 'kelahiran', classification: 'dikecualikan', schema: TOPIC_SCHEMA },
    });
    for (const [persona, action] of [
      ['publisher-own', 'submit'],
      ['operator', 'approve'],
      ['reviewer', 'approve'],
      ['publisher-own', 'publish'],
    ] as const) {
      const res = await r.app.inject({
        method: 'POST',
        url: `/v1/topics/${DEMO_TOPIC}/transitions`,
        headers: bearer(tokens[persona]!),
        payload: { action },
      });
      if (res.statusCode !== 200) throw new Error(`topic ${action}: ${res.statusCode} ${res.body}`);
    }
    const topicSubscription = async (appSlug: string, state: 'pending' | 'approved') => {
      const res = await asOperator({
        method: 'POST',
        url: '/v1/topic-subscriptions',
        payload: {
          application: `dinkes/${appSlug}`,
          topic: DEMO_TOPIC,
          purpose: 'Throwaway request of the access matrix',
          mode: 'push',
          pushUrl: `https://${appSlug}.dinkes.example.go.id/events`,
        },
      });
      const id = (res.json() as { id: string }).id;
      if (state === 'approved') {
        const ok = await r.app.inject({
          method: 'POST',
          url: `/v1/topic-subscriptions/${id}/decision`,
          headers: bearer(tokens.operator!),
          payload: { decision: 'approve' },
        });
        if (ok.statusCode !== 200) throw new Error(`approve topic subscription: ${ok.statusCode} ${ok.body}`);
      }
      return id;
    };
    const demoTopicSubscription = await topicSubscription('sistem-rujukan', 'approved');

    const application = async (slug: string) => {
      await asOperator({
        method: 'POST',
        url: '/v1/organisations/dinkes/applications',
        payload: { slug, name: `Throwaway ${slug}`, credentials: {} },
      });
      return slug;
    };

    return {
      r,
      hub: demo,
      openapi,
      tokens,
      subscriptionId: approved.id,
      asOperator,
      async draftVersion(version) {
        await asOperator({
          method: 'POST',
          url: `/v1/apis/${DEMO_API}/versions`,
          payload: {
            version,
            openapi,
            upstream: { urls: ['http://127.0.0.1:8090'], timeoutMs: 5000 },
            plan: { requestsPerMinute: 60, bodyLimitBytes: 65536 },
          },
        });
        return version;
      },
      application,
      async pendingSubscription(appSlug) {
        await application(appSlug);
        const res = await asOperator({
          method: 'POST',
          url: '/v1/subscriptions',
          payload: {
            application: `dinkes/${appSlug}`,
            api: DEMO_API,
            version: 'v1',
            purpose: 'Throwaway request of the access matrix',
          },
        });
        return (res.json() as { id: string }).id;
      },
      async trustedIssuer(slug) {
        await asOperator({ method: 'POST', url: '/v1/trusted-issuers', payload: trustedIssuerInput(slug) });
        return slug;
      },
      topicSubscriptionId: demoTopicSubscription,
      async draftTopic(slug) {
        await asOperator({
          method: 'POST',
          url: '/v1/organisations/disdukcapil/topics',
          payload: { slug, classification: 'publik', schema: TOPIC_SCHEMA },
        });
        return slug;
      },
      async topicSubscription(appSlug, state) {
        await application(appSlug);
        return topicSubscription(appSlug, state);
      },
      close: () => r.close(),
    };
  } catch (err) {
    await r.close();
    throw err;
  }
}
