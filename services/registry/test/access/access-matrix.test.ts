import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAccess } from '../../src/plugins/access-control.js';
import { bearer } from '../helpers/test-registry.js';
import {
  type AccessFixture,
  buildAccessFixture,
  DEMO_API,
  DEMO_APP,
  DEMO_APP_CLIENT,
  DEMO_TOPIC,
  PERSONAS,
  type Persona,
  TRUSTED_ISSUER,
  trustedIssuerInput,
  WHO,
} from './fixtures.js';

/**
 * The access matrix (issue 2, "How we will know"; docs/roles.md): every route of the
 * registry × every persona, for the caller's own organisation and another, with the answer
 * expected. A route in `app.routeAccess` without a rule here fails the first test, so a new
 * endpoint cannot ship without someone writing down who may call it.
 *
 * Personas (test/access/fixtures.ts): `anonymous` (no token); `bootstrap` (the shared
 * operator client, no person); `operator`, `reviewer`, `auditor` (people of diskominfo, the
 * hub); `publisher-own` (publisher of disdukcapil, which owns disdukcapil/kependudukan);
 * `publisher-other` and `consumer-other` (of bpjs-kesehatan); `consumer-own` (consumer of
 * dinkes, which owns dinkes/sistem-rujukan and its approved subscription to the API);
 * `dataplane` (a gateway client of the hub).
 *
 * The demo API is `dikecualikan` in this fixture: it exists only for its owner, readers of
 * everything (operator, reviewer, auditor) and organisations with an approved subscription
 * (dinkes); anyone else is answered 404, as if it did not exist.
 *
 * An answer is a status, or `ok` (any 2xx); a list means any of them. Cells of a route run
 * denied personas first, so a refused attempt meets the fixture unchanged. Cells that change
 * or destroy something act on a throwaway made for that persona.
 */

type Answer = number | 'ok';
type Expected = Answer | readonly Answer[];
type Answers = Partial<Record<Persona, Expected>> & { default: Expected };

interface Rule {
  /** What the sample request does, for the reader. */
  sample: string;
  /** The request, without credentials; `who` lets a cell act on its own throwaway. */
  request: (fx: AccessFixture, who: Persona) => InjectOptions | Promise<InjectOptions>;
  expect: Answers;
  /** For lists and reports: what the answer must hold for exactly the personas named. */
  sees?: { what: string; by: readonly Persona[]; in: (body: unknown, who: Persona) => boolean };
}

const OK = 'ok';
/** Anyone, no token needed. */
const PUBLIC: Answers = { default: OK };
/** Any valid token. */
const ANY_TOKEN: Answers = { anonymous: 401, default: OK };
/** A read of the dikecualikan demo API or one of its versions. */
const SEES_DEMO_API: Answers = {
  anonymous: 401,
  'publisher-other': 404,
  'consumer-other': 404,
  dataplane: 404,
  default: OK,
};
/** Changing something of disdukcapil: operators and its publishers. */
const DISDUKCAPIL_OWNERS: Answers = {
  anonymous: 401,
  bootstrap: OK,
  operator: OK,
  'publisher-own': OK,
  default: 403,
};
/** Changing something of dinkes: operators and its consumers (or publishers). */
const DINKES_WRITERS: Answers = {
  anonymous: 401,
  bootstrap: OK,
  operator: OK,
  'consumer-own': OK,
  default: 403,
};
/** Reading dinkes's applications: its members, operators and auditors. */
const DINKES_READERS: Answers = {
  anonymous: 401,
  bootstrap: OK,
  operator: OK,
  auditor: OK,
  'consumer-own': OK,
  default: 403,
};
/** The SPBE evidence: operators, reviewers and auditors (the Inspektorat). */
const SPBE_READERS: Answers = {
  anonymous: 401,
  bootstrap: OK,
  operator: OK,
  reviewer: OK,
  auditor: OK,
  default: 403,
};
const OPERATORS: Answers = { anonymous: 401, bootstrap: OK, operator: OK, default: 403 };
const OPERATORS_AND_AUDITORS: Answers = {
  anonymous: 401,
  bootstrap: OK,
  operator: OK,
  auditor: OK,
  default: 403,
};

const get = (url: string): InjectOptions => ({ method: 'GET', url });
const json = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object): InjectOptions => ({
  method,
  url,
  ...(payload === undefined ? {} : { payload }),
});

export const MATRIX: Record<string, Rule> = {
  // ── public: health, metrics and the OAuth2 authorization server ──
  'GET /healthz': { sample: 'liveness', request: () => get('/healthz'), expect: PUBLIC },
  'GET /readyz': { sample: 'readiness', request: () => get('/readyz'), expect: PUBLIC },
  'GET /metrics': { sample: 'Prometheus metrics', request: () => get('/metrics'), expect: PUBLIC },
  'GET /.well-known/oauth-authorization-server': {
    sample: 'RFC 8414 metadata',
    request: () => get('/.well-known/oauth-authorization-server'),
    expect: PUBLIC,
  },
  'GET /oauth2/jwks': { sample: 'the JWKS', request: () => get('/oauth2/jwks'), expect: PUBLIC },
  'POST /oauth2/token': {
    sample: "client credentials grant of dinkes/sistem-rujukan (a caller's bearer token plays no part)",
    request: () => ({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: DEMO_APP_CLIENT.clientId,
        client_secret: DEMO_APP_CLIENT.secret,
      }).toString(),
    }),
    expect: PUBLIC,
  },

  // ── organisations ──
  'GET /v1/organisations': { sample: 'list', request: () => get('/v1/organisations'), expect: ANY_TOKEN },
  'POST /v1/organisations': {
    sample: 'register a new organisation (one per persona)',
    request: (_fx, who) =>
      json('POST', '/v1/organisations', { slug: `mx-org-${who}`, name: `Org ${who}`, kind: 'pemda-lain' }),
    expect: OPERATORS,
  },
  'GET /v1/organisations/:org': {
    sample: 'show disdukcapil',
    request: () => get('/v1/organisations/disdukcapil'),
    expect: ANY_TOKEN,
  },
  'PATCH /v1/organisations/:org': {
    sample: 'rename disdukcapil to its own name',
    request: () =>
      json('PATCH', '/v1/organisations/disdukcapil', { name: 'Dinas Kependudukan dan Pencatatan Sipil' }),
    expect: DISDUKCAPIL_OWNERS,
  },

  // ── APIs, versions and their lifecycle (own organisation: disdukcapil) ──
  'POST /v1/organisations/:org/apis': {
    sample: 'register a new API of disdukcapil (one per persona)',
    request: (_fx, who) =>
      json('POST', '/v1/organisations/disdukcapil/apis', {
        slug: `mx-api-${who}`,
        name: `API ${who}`,
        classification: 'publik',
      }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'GET /v1/apis': {
    sample: 'search the catalog',
    request: () => get('/v1/apis?limit=200'),
    expect: ANY_TOKEN,
    sees: {
      what: `the dikecualikan ${DEMO_API}`,
      by: ['bootstrap', 'operator', 'reviewer', 'auditor', 'publisher-own', 'consumer-own'],
      in: (body) =>
        (body as { items: Array<{ org: string; slug: string }> }).items.some(
          (a) => `${a.org}/${a.slug}` === DEMO_API,
        ),
    },
  },
  'GET /v1/apis/:org/:api': {
    sample: `show ${DEMO_API}`,
    request: () => get(`/v1/apis/${DEMO_API}`),
    expect: SEES_DEMO_API,
  },
  'PATCH /v1/apis/:org/:api': {
    sample: `set ${DEMO_API}'s SLA target to what it is`,
    request: () => json('PATCH', `/v1/apis/${DEMO_API}`, { slaTarget: 95 }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'POST /v1/apis/:org/:api/versions': {
    sample: `create a draft version of ${DEMO_API} (one per persona)`,
    request: (fx, who) =>
      json('POST', `/v1/apis/${DEMO_API}/versions`, {
        version: `mx-${who}`,
        openapi: fx.openapi,
        upstream: { urls: ['http://127.0.0.1:8090'] },
        plan: { requestsPerMinute: 60 },
      }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'GET /v1/apis/:org/:api/versions': {
    sample: `list the versions of ${DEMO_API}`,
    request: () => get(`/v1/apis/${DEMO_API}/versions`),
    expect: SEES_DEMO_API,
  },
  'GET /v1/apis/:org/:api/versions/:version': {
    sample: `show the published ${DEMO_API} v1`,
    request: () => get(`/v1/apis/${DEMO_API}/versions/v1`),
    expect: SEES_DEMO_API,
  },
  'GET /v1/apis/:org/:api/versions/:version/openapi': {
    sample: `the OpenAPI document of ${DEMO_API} v1`,
    request: () => get(`/v1/apis/${DEMO_API}/versions/v1/openapi`),
    expect: SEES_DEMO_API,
  },
  'PATCH /v1/apis/:org/:api/versions/:version': {
    sample: `an empty change of the draft ${DEMO_API} v2`,
    request: () => json('PATCH', `/v1/apis/${DEMO_API}/versions/v2`, {}),
    expect: DISDUKCAPIL_OWNERS,
  },
  'POST /v1/apis/:org/:api/versions/:version/transitions': {
    sample: `submit a throwaway draft of ${DEMO_API} (one per persona)`,
    request: async (fx, who) =>
      json('POST', `/v1/apis/${DEMO_API}/versions/${await fx.draftVersion(`t-${who}`)}/transitions`, {
        action: 'submit',
      }),
    expect: {
      anonymous: 401,
      bootstrap: OK,
      operator: OK,
      'publisher-own': OK,
      // A draft of another organisation does not exist for the caller.
      'publisher-other': 404,
      // May make some transitions (kelaikan keamanan), but submitting is the owner's.
      reviewer: 403,
      default: 403,
    },
  },
  'GET /v1/apis/:org/:api/versions/:version/transitions': {
    sample: `the lifecycle history of ${DEMO_API} v1`,
    request: () => get(`/v1/apis/${DEMO_API}/versions/v1/transitions`),
    expect: SEES_DEMO_API,
  },

  // ── people ──
  'GET /v1/me': { sample: 'who the caller is', request: () => get('/v1/me'), expect: ANY_TOKEN },
  'GET /v1/users': { sample: 'list people', request: () => get('/v1/users'), expect: OPERATORS_AND_AUDITORS },
  'POST /v1/users': {
    sample: 'register a consumer of bpjs-kesehatan (one per persona)',
    request: (_fx, who) =>
      json('POST', '/v1/users', {
        username: `mx-new-${who}`,
        name: `New ${who}`,
        org: 'bpjs-kesehatan',
        roles: ['consumer'],
      }),
    expect: OPERATORS,
  },
  'GET /v1/me/data': {
    sample: "export the caller's own personal data (BKS 59(10))",
    request: () => get('/v1/me/data'),
    expect: {
      anonymous: 401,
      // Neither is a person: 403 SPL_PERSON_REQUIRED.
      bootstrap: 403,
      dataplane: 403,
      default: OK,
    },
  },
  'POST /v1/users/:id/erasure': {
    sample: 'erase a throwaway person of bpjs-kesehatan (one per persona)',
    request: async (fx, who) => {
      const { userId } = await fx.r.person({
        org: 'bpjs-kesehatan',
        roles: ['consumer'],
        username: `mx-erase-${who}`,
      });
      return json('POST', `/v1/users/${userId}/erasure`);
    },
    expect: OPERATORS,
  },
  'POST /v1/me/secret': {
    sample: "rotate the caller's own personal client secret",
    request: () => json('POST', '/v1/me/secret', {}),
    expect: {
      anonymous: 401,
      // Neither is a personal client: 403 SPL_PERSON_REQUIRED.
      bootstrap: 403,
      dataplane: 403,
      default: OK,
    },
  },

  // ── audit trail and declarative configuration ──
  'GET /v1/audit': {
    sample: 'audit records',
    request: () => get('/v1/audit'),
    expect: OPERATORS_AND_AUDITORS,
  },
  'GET /v1/audit/verify': {
    sample: 'verify the hash chain',
    request: () => get('/v1/audit/verify'),
    expect: OPERATORS_AND_AUDITORS,
  },
  'POST /v1/apply': {
    sample: `apply ${DEMO_API} as it is (each item is checked against the caller's rights)`,
    request: (fx) => {
      const { versions: _versions, ...api } = (fx.hub.apis as Array<Record<string, unknown>>)[0]!;
      return json('POST', '/v1/apply', { apiVersion: 'spl/v1', apis: [api] });
    },
    expect: ANY_TOKEN,
    sees: {
      what: `${DEMO_API} checked and unchanged (others: refused)`,
      by: ['bootstrap', 'operator', 'publisher-own'],
      in: (body) => {
        const item = (body as { items: Array<{ kind: string; id: string; result: string }> }).items.find(
          (i) => i.kind === 'api' && i.id === DEMO_API,
        );
        if (item?.result !== 'unchanged' && item?.result !== 'refused') throw new Error(JSON.stringify(body));
        return item.result === 'unchanged';
      },
    },
  },
  'GET /v1/export': {
    sample: 'the registry as a hub document',
    request: () => get('/v1/export'),
    expect: OPERATORS_AND_AUDITORS,
  },

  // ── trusted issuers ──
  'GET /v1/trusted-issuers': { sample: 'list', request: () => get('/v1/trusted-issuers'), expect: ANY_TOKEN },
  'POST /v1/trusted-issuers': {
    sample: 'trust a new issuer (one per persona)',
    request: (_fx, who) => json('POST', '/v1/trusted-issuers', trustedIssuerInput(`mx-${who}`)),
    expect: OPERATORS,
  },
  'GET /v1/trusted-issuers/:issuer': {
    sample: `show ${TRUSTED_ISSUER}`,
    request: () => get(`/v1/trusted-issuers/${TRUSTED_ISSUER}`),
    expect: ANY_TOKEN,
  },
  'PATCH /v1/trusted-issuers/:issuer': {
    sample: `set ${TRUSTED_ISSUER}'s description to what it is`,
    request: () =>
      json('PATCH', `/v1/trusted-issuers/${TRUSTED_ISSUER}`, {
        description: trustedIssuerInput(TRUSTED_ISSUER).description,
      }),
    expect: OPERATORS,
  },
  'DELETE /v1/trusted-issuers/:issuer': {
    sample: 'stop trusting a throwaway issuer (one per persona)',
    request: async (fx, who) => json('DELETE', `/v1/trusted-issuers/${await fx.trustedIssuer(`del-${who}`)}`),
    expect: OPERATORS,
  },

  // ── applications (own organisation: dinkes) ──
  'GET /v1/organisations/:org/applications': {
    sample: "list dinkes's applications",
    request: () => get('/v1/organisations/dinkes/applications'),
    expect: DINKES_READERS,
  },
  'POST /v1/organisations/:org/applications': {
    sample: 'register an application of dinkes (one per persona)',
    request: (_fx, who) =>
      json('POST', '/v1/organisations/dinkes/applications', {
        slug: `mx-app-${who}`,
        name: `App ${who}`,
        credentials: {},
      }),
    expect: DINKES_WRITERS,
  },
  'GET /v1/applications/:org/:app': {
    sample: `show ${DEMO_APP}`,
    request: () => get(`/v1/applications/${DEMO_APP}`),
    expect: DINKES_READERS,
  },
  'PATCH /v1/applications/:org/:app': {
    sample: `rename ${DEMO_APP} to its own name`,
    request: () => json('PATCH', `/v1/applications/${DEMO_APP}`, { name: 'Sistem Rujukan Dinkes' }),
    expect: DINKES_WRITERS,
  },
  'POST /v1/applications/:org/:app/secrets': {
    sample: "rotate a throwaway dinkes application's secret (one per persona)",
    request: async (fx, who) =>
      json('POST', `/v1/applications/dinkes/${await fx.application(`s-${who}`)}/secrets`, {}),
    expect: DINKES_WRITERS,
  },

  // ── subscriptions and the data owner's consent ──
  'GET /v1/subscriptions': {
    sample: 'list',
    request: () => get('/v1/subscriptions'),
    expect: ANY_TOKEN,
    sees: {
      what: `the subscription of ${DEMO_APP} to ${DEMO_API}`,
      by: ['bootstrap', 'operator', 'auditor', 'publisher-own', 'consumer-own'],
      in: (body) => (body as Array<{ application: string }>).some((s) => s.application === DEMO_APP),
    },
  },
  'POST /v1/subscriptions': {
    sample: `ask for ${DEMO_API} v1 for a throwaway dinkes application (one per persona)`,
    request: async (fx, who) =>
      json('POST', '/v1/subscriptions', {
        application: `dinkes/${await fx.application(`n-${who}`)}`,
        api: DEMO_API,
        version: 'v1',
        purpose: 'Verifikasi identitas pasien (access matrix)',
      }),
    expect: DINKES_WRITERS,
  },
  'GET /v1/subscriptions/:id': {
    sample: `show the approved subscription of ${DEMO_APP}`,
    request: (fx) => get(`/v1/subscriptions/${fx.subscriptionId}`),
    expect: {
      anonymous: 401,
      bootstrap: OK,
      operator: OK,
      auditor: OK,
      'publisher-own': OK, // the API's organisation
      'consumer-own': OK, // the application's organisation
      default: 404,
    },
  },
  'POST /v1/subscriptions/:id/decision': {
    sample: 'approve a throwaway pending request of a dinkes application (one per persona)',
    request: async (fx, who) =>
      json('POST', `/v1/subscriptions/${await fx.pendingSubscription(`d-${who}`)}/decision`, {
        decision: 'approve',
        reason: 'Sesuai tujuan (access matrix)',
      }),
    expect: {
      anonymous: 401,
      // Consent is a named person's act: 403 SPL_PERSON_REQUIRED.
      bootstrap: 403,
      operator: OK,
      // The data owner consents, not the applicant.
      'publisher-own': OK,
      'consumer-own': 403,
      // A subscription the caller may not see is answered as missing, as GET answers it.
      'publisher-other': 404,
      'consumer-other': 404,
      default: 403,
    },
  },

  // ── event topics (own organisation: disdukcapil; subscriptions: dinkes) ──
  'POST /v1/organisations/:org/topics': {
    sample: 'register a topic of disdukcapil (one per persona)',
    request: (_fx, who) =>
      json('POST', '/v1/organisations/disdukcapil/topics', {
        slug: `mx-topic-${who}`,
        classification: 'publik',
        schema: { type: 'object' },
      }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'GET /v1/topics': {
    sample: 'list topics',
    request: () => get('/v1/topics'),
    expect: ANY_TOKEN,
    sees: {
      what: `the dikecualikan ${DEMO_TOPIC}`,
      by: ['bootstrap', 'operator', 'reviewer', 'auditor', 'publisher-own', 'consumer-own'],
      in: (body) =>
        (body as Array<{ org: string; slug: string }>).some((t) => `${t.org}/${t.slug}` === DEMO_TOPIC),
    },
  },
  'GET /v1/topics/:org/:topic': {
    sample: `show ${DEMO_TOPIC}`,
    request: () => get(`/v1/topics/${DEMO_TOPIC}`),
    expect: SEES_DEMO_API,
  },
  'PATCH /v1/topics/:org/:topic': {
    sample: `set ${DEMO_TOPIC}'s description to what it is`,
    request: () => json('PATCH', `/v1/topics/${DEMO_TOPIC}`, { description: '' }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'POST /v1/topics/:org/:topic/transitions': {
    sample: 'submit a throwaway draft topic of disdukcapil (one per persona)',
    request: async (fx, who) =>
      json('POST', `/v1/topics/disdukcapil/${await fx.draftTopic(`mx-t-${who}`)}/transitions`, {
        action: 'submit',
      }),
    expect: {
      anonymous: 401,
      bootstrap: OK,
      operator: OK,
      'publisher-own': OK,
      'publisher-other': 404,
      reviewer: 403,
      default: 403,
    },
  },
  'GET /v1/topics/:org/:topic/transitions': {
    sample: `the lifecycle history of ${DEMO_TOPIC}`,
    request: () => get(`/v1/topics/${DEMO_TOPIC}/transitions`),
    expect: SEES_DEMO_API,
  },
  'POST /v1/topics/:org/:topic/publish-grants': {
    sample: `let ${DEMO_APP} publish to ${DEMO_TOPIC} (again)`,
    request: () => json('POST', `/v1/topics/${DEMO_TOPIC}/publish-grants`, { application: DEMO_APP }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'DELETE /v1/topics/:org/:topic/publish-grants/:appOrg/:app': {
    sample: 'withdraw the publish grant of a throwaway dinkes application (one per persona)',
    request: async (fx, who) => {
      const app = await fx.application(`g-${who}`);
      await fx.asOperator(
        json('POST', `/v1/topics/${DEMO_TOPIC}/publish-grants`, { application: `dinkes/${app}` }),
      );
      return json('DELETE', `/v1/topics/${DEMO_TOPIC}/publish-grants/dinkes/${app}`);
    },
    expect: DISDUKCAPIL_OWNERS,
  },
  'GET /v1/catalog/topics/asyncapi': {
    sample: 'the visible topics as AsyncAPI 3.0',
    request: () => get('/v1/catalog/topics/asyncapi'),
    expect: ANY_TOKEN,
    sees: {
      what: `the dikecualikan ${DEMO_TOPIC}`,
      by: ['bootstrap', 'operator', 'reviewer', 'auditor', 'publisher-own', 'consumer-own'],
      in: (body) => 'disdukcapil.kelahiran' in (body as { channels: object }).channels,
    },
  },
  'GET /v1/catalog/topics/:org/:topic/asyncapi': {
    sample: `${DEMO_TOPIC} as AsyncAPI 3.0`,
    request: () => get(`/v1/catalog/topics/${DEMO_TOPIC}/asyncapi`),
    expect: SEES_DEMO_API,
  },
  'GET /v1/topic-subscriptions': {
    sample: 'list',
    request: () => get('/v1/topic-subscriptions'),
    expect: ANY_TOKEN,
    sees: {
      what: `the subscription of ${DEMO_APP} to ${DEMO_TOPIC}`,
      by: ['bootstrap', 'operator', 'auditor', 'publisher-own', 'consumer-own'],
      in: (body) => (body as Array<{ application: string }>).some((s) => s.application === DEMO_APP),
    },
  },
  'POST /v1/topic-subscriptions': {
    sample: `ask for ${DEMO_TOPIC} (pull) for a throwaway dinkes application (one per persona)`,
    request: async (fx, who) =>
      json('POST', '/v1/topic-subscriptions', {
        application: `dinkes/${await fx.application(`tn-${who}`)}`,
        topic: DEMO_TOPIC,
        purpose: 'Rujukan bayi baru lahir (access matrix)',
        mode: 'pull',
      }),
    expect: DINKES_WRITERS,
  },
  'GET /v1/topic-subscriptions/:id': {
    sample: `show the approved topic subscription of ${DEMO_APP}`,
    request: (fx) => get(`/v1/topic-subscriptions/${fx.topicSubscriptionId}`),
    expect: {
      anonymous: 401,
      bootstrap: OK,
      operator: OK,
      auditor: OK,
      'publisher-own': OK,
      'consumer-own': OK,
      default: 404,
    },
  },
  'POST /v1/topic-subscriptions/:id/decision': {
    sample: 'approve a throwaway pending topic subscription (one per persona)',
    request: async (fx, who) =>
      json('POST', `/v1/topic-subscriptions/${await fx.topicSubscription(`td-${who}`, 'pending')}/decision`, {
        decision: 'approve',
      }),
    expect: {
      anonymous: 401,
      bootstrap: 403,
      operator: OK,
      'publisher-own': OK,
      'consumer-own': 403,
      'publisher-other': 404,
      'consumer-other': 404,
      default: 403,
    },
  },
  'POST /v1/topic-subscriptions/:id/secrets': {
    sample: `rotate the webhook secret of ${DEMO_APP}'s topic subscription`,
    request: (fx) => json('POST', `/v1/topic-subscriptions/${fx.topicSubscriptionId}/secrets`, {}),
    expect: {
      anonymous: 401,
      bootstrap: OK,
      operator: OK,
      // The subscriber rotates its own secret; the topic owner sees the subscription but may not.
      'consumer-own': OK,
      'publisher-other': 404,
      'consumer-other': 404,
      default: 403,
    },
  },
  'POST /v1/topic-subscriptions/:id/suspension': {
    sample: 'the broker suspends a throwaway approved push subscription (one per persona)',
    request: async (fx, who) =>
      json(
        'POST',
        `/v1/topic-subscriptions/${await fx.topicSubscription(`ts-${who}`, 'approved')}/suspension`,
        {
          reason: 'endpoint failing (access matrix)',
        },
      ),
    expect: { anonymous: 401, dataplane: OK, default: 403 },
  },

  // ── inbox, data plane and signing keys ──
  'GET /v1/inbox': { sample: 'what waits on the caller', request: () => get('/v1/inbox'), expect: ANY_TOKEN },
  'GET /v1/snapshot': {
    sample: 'the data-plane snapshot',
    request: () => get('/v1/snapshot'),
    expect: { anonymous: 401, bootstrap: OK, operator: OK, auditor: OK, dataplane: OK, default: 403 },
  },
  'POST /v1/dataplane-clients': {
    sample: 'credentials for a gateway (one per persona)',
    request: (_fx, who) => json('POST', '/v1/dataplane-clients', { name: `mx-${who}` }),
    expect: OPERATORS,
  },
  'GET /v1/keys': {
    sample: 'the signing keys',
    request: () => get('/v1/keys'),
    expect: OPERATORS_AND_AUDITORS,
  },
  'GET /v1/usage': {
    sample: "disdukcapil's usage per hour",
    request: () => get('/v1/usage?org=disdukcapil&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z'),
    expect: { anonymous: 401, bootstrap: OK, operator: OK, auditor: OK, 'publisher-own': OK, default: 403 },
  },
  // ── measured SLA, maintenance windows (BKS 60(3)(m)) ──
  'GET /v1/apis/:org/:api/availability': {
    sample: `availability of ${DEMO_API} per day`,
    request: () => get(`/v1/apis/${DEMO_API}/availability?granularity=day`),
    expect: SEES_DEMO_API,
  },
  'GET /v1/apis/:org/:api/maintenance-windows': {
    sample: `maintenance windows of ${DEMO_API}`,
    request: () => get(`/v1/apis/${DEMO_API}/maintenance-windows`),
    expect: SEES_DEMO_API,
  },
  'POST /v1/apis/:org/:api/maintenance-windows': {
    sample: `declare a maintenance window of ${DEMO_API}`,
    request: () =>
      json('POST', `/v1/apis/${DEMO_API}/maintenance-windows`, {
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2026-01-01T01:00:00Z',
        reason: 'access matrix',
      }),
    expect: DISDUKCAPIL_OWNERS,
  },
  'DELETE /v1/apis/:org/:api/maintenance-windows/:id': {
    sample: `remove a throwaway maintenance window of ${DEMO_API} (one per persona)`,
    request: async (fx, who) => {
      const res = await fx.asOperator(
        json('POST', `/v1/apis/${DEMO_API}/maintenance-windows`, {
          startsAt: '2026-01-02T00:00:00Z',
          endsAt: '2026-01-02T01:00:00Z',
          reason: `throwaway of ${who}`,
        }),
      );
      return json('DELETE', `/v1/apis/${DEMO_API}/maintenance-windows/${(res.json() as { id: string }).id}`);
    },
    expect: DISDUKCAPIL_OWNERS,
  },
  'GET /v1/reports/monev': {
    sample: "disdukcapil's monev report for a day",
    request: () => get('/v1/reports/monev?org=disdukcapil&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z'),
    expect: { anonymous: 401, bootstrap: OK, operator: OK, auditor: OK, 'publisher-own': OK, default: 403 },
  },
  'GET /status': { sample: 'the public status page', request: () => get('/status'), expect: PUBLIC },
  'GET /v1/status': {
    sample: 'the status page with restricted APIs (operator view)',
    request: () => get('/v1/status'),
    expect: { anonymous: 401, bootstrap: OK, operator: OK, reviewer: OK, auditor: OK, default: 403 },
  },

  // ── SPBE evidence (docs/spbe.md): read by operators, reviewers and auditors ──
  'GET /v1/spbe/roster': {
    sample: 'the roster of PDs',
    request: () => get('/v1/spbe/roster'),
    expect: SPBE_READERS,
  },
  'PUT /v1/spbe/roster': {
    sample: 'declare disdukcapil and dinkes as the roster (the same for every persona)',
    request: () => json('PUT', '/v1/spbe/roster', { organisations: ['disdukcapil', 'dinkes'] }),
    expect: OPERATORS,
  },
  'GET /v1/spbe/reviews': { sample: 'reviews', request: () => get('/v1/spbe/reviews'), expect: SPBE_READERS },
  'PUT /v1/spbe/reviews/:review': {
    sample: 'record a review (one per persona)',
    request: (_fx, who) =>
      json('PUT', `/v1/spbe/reviews/mx-review-${who}`, {
        reviewedOn: '2026-01-15',
        scope: 'access matrix',
        findings: [
          {
            code: 'F1',
            description: 'finding',
            actions: [{ code: 'A1', description: 'fix', status: 'planned' }],
          },
        ],
      }),
    expect: OPERATORS,
  },
  'GET /v1/spbe/reviews/:review': {
    sample: "the bootstrap operator's review",
    request: () => get('/v1/spbe/reviews/mx-review-bootstrap'),
    expect: SPBE_READERS,
  },
  'GET /v1/spbe/report': {
    sample: 'the Indikator 18 report of 2026',
    request: () => get('/v1/spbe/report?period=2026'),
    expect: SPBE_READERS,
  },
  'GET /v1/spbe/report.html': {
    sample: 'the printable report of 2026',
    request: () => get('/v1/spbe/report.html?period=2026'),
    expect: SPBE_READERS,
  },
  'GET /v1/spbe/map': {
    sample: 'the integration map of 2026 (SVG)',
    request: () => get('/v1/spbe/map?period=2026'),
    expect: SPBE_READERS,
  },
  // Last: every persona's token stays valid (its key is retiring), but nothing should follow.
  'POST /v1/keys/rotate': {
    sample: 'rotate the signing key',
    request: () => json('POST', '/v1/keys/rotate'),
    expect: OPERATORS,
  },
};

function expectedOf(rule: Rule, who: Persona): readonly Answer[] {
  return [rule.expect[who] ?? rule.expect.default].flat();
}

const allows = (answers: readonly Answer[]) => answers.some((a) => a === OK);

function matches(status: number, answers: readonly Answer[]): boolean {
  return answers.some((a) => (a === OK ? status >= 200 && status < 300 : status === a));
}

const isPluginRoute = (route: RouteAccess) => route.method === 'HEAD' || route.url.startsWith('/docs');
const keyOf = (route: RouteAccess) => `${route.method} ${route.url}`;

describe('access matrix', () => {
  let fx: AccessFixture;

  beforeAll(async () => {
    fx = await buildAccessFixture();
    await fx.draftVersion('v2');
  }, 120_000);
  afterAll(async () => fx?.close());

  it('has a rule for every route, and none for a route that does not exist', () => {
    const routes = fx.r.app.routeAccess.filter((route) => !isPluginRoute(route)).map(keyOf);
    const missing = routes.filter((key) => !(key in MATRIX));
    const stale = Object.keys(MATRIX).filter((key) => !routes.includes(key));
    expect(missing, 'routes with no rule in the access matrix (add one to MATRIX)').toEqual([]);
    expect(stale, 'rules in the access matrix for routes that no longer exist').toEqual([]);
  });

  it('agrees with the rule each route declares (config.access)', () => {
    for (const route of fx.r.app.routeAccess.filter((r) => !isPluginRoute(r))) {
      const rule = MATRIX[keyOf(route)];
      if (!rule) continue;
      const access = route.access;
      const needed =
        'public' in access || access.roles === 'any' ? null : (access.roles as readonly string[]);
      for (const who of PERSONAS) {
        const expected = expectedOf(rule, who);
        const label = `${keyOf(route)} as ${who}`;
        if ('public' in access) expect(expected, label).toEqual([OK]);
        else if (who === 'anonymous') expect(expected, label).toEqual([401]);
        else if (needed && !WHO[who].roles.some((r) => needed.includes(r)))
          expect(expected, `${label}: holds no role of ${needed.join(', ')}`).toEqual([403]);
      }
    }
  });

  for (const [key, rule] of Object.entries(MATRIX)) {
    // Refused attempts first: they must meet the fixture as it was.
    const order = [...PERSONAS].sort(
      (a, b) => Number(allows(expectedOf(rule, a))) - Number(allows(expectedOf(rule, b))),
    );
    describe(`${key} — ${rule.sample}`, () => {
      it.each(order.map((who) => [who, expectedOf(rule, who).join(' | ')] as const))(
        'as %s → %s',
        async (who) => {
          const options = await rule.request(fx, who);
          const token = fx.tokens[who];
          const res: LightMyRequestResponse = await fx.r.app.inject({
            ...options,
            headers: { ...options.headers, ...(token ? bearer(token) : {}) },
          });
          const expected = expectedOf(rule, who);
          expect(
            matches(res.statusCode, expected),
            `${key} as ${who}: expected ${expected.join(' or ')}, got ${res.statusCode} ${res.body.slice(0, 400)}`,
          ).toBe(true);
          if (res.statusCode === 401 || res.statusCode === 403)
            expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          if (res.statusCode === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
          if (rule.sees && res.statusCode >= 200 && res.statusCode < 300)
            expect(rule.sees.in(res.json(), who), `${key} as ${who}: sees ${rule.sees.what}`).toBe(
              rule.sees.by.includes(who),
            );
        },
      );
    });
  }
});
