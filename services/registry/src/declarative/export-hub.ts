import { listOrganisations } from '../organisations/organisation-store.js';
import type { RegistryContext } from '../registry-context.js';
import type { UpstreamAuth } from '../routes/apis/schemas.js';
import type { HubDocument, HubUpstreamAuth, HubUser } from '../routes/declarative/schemas.js';
import { exportSpbeSection } from '../spbe/apply-spbe.js';
import type { Sql } from '../store/database.js';
import { listTrustedIssuers } from '../trusted-issuers/trusted-issuer-store.js';
import { listUsers } from '../users/user-store.js';

/** The environment variable an exported file names for a version's upstream secret. */
export function upstreamSecretRef(org: string, api: string, version: string): string {
  return `env:SPL_UPSTREAM_SECRET_${`${org}_${api}_${version}`.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

function hubUpstreamAuth(auth: UpstreamAuth, secretRef: string): HubUpstreamAuth {
  return auth.kind === 'none' ? auth : { ...auth, secretRef };
}

/**
 * `spl export`: the registry's content as a hub document that `spl apply` takes back.
 * It holds no secret: clients are named by id only, and an upstream secret by the
 * `secretRef` the file expects it under. Versions carry their state; subscriptions only
 * while live (pending, approved, suspended).
 */
export async function exportHubDocument(db: Sql, _ctx: Pick<RegistryContext, 'clock'>): Promise<HubDocument> {
  const organisations = (await listOrganisations(db)).map(({ slug, name, kind, contacts }) => ({
    slug,
    name,
    kind,
    ...(contacts.length ? { contacts } : {}),
  }));
  const users = (await listUsers(db)).map((u) => ({
    username: u.username,
    name: u.name,
    ...(u.email ? { email: u.email } : {}),
    org: u.org,
    roles: u.roles.filter((r) => r !== 'dataplane') as HubUser['roles'],
    ...(u.clientIds[0] ? { client: { clientId: u.clientIds[0] } } : {}),
  }));
  const trustedIssuers = (await listTrustedIssuers(db)).map(
    ({ slug, issuer, jwksUrl, audience, algorithms, clientClaim, description }) => ({
      slug,
      issuer,
      jwksUrl,
      audience,
      algorithms,
      clientClaim,
      ...(description ? { description } : {}),
    }),
  );

  const apiRows = await db.query<{
    id: string;
    org: string;
    slug: string;
    name: string;
    description: string;
    tags: string[];
    classification: NonNullable<HubDocument['apis']>[number]['classification'];
    sla_target: number;
    contact: NonNullable<HubDocument['apis']>[number]['contact'] | null;
    satu_data: NonNullable<HubDocument['apis']>[number]['satuData'] | null;
  }>(`SELECT a.*, o.slug AS org FROM apis a JOIN organisations o ON o.id = a.org_id ORDER BY o.slug, a.slug`);
  const versionRows = await db.query<{
    api_id: string;
    version: string;
    state: NonNullable<NonNullable<HubDocument['apis']>[number]['versions']>[number]['state'];
    document: Record<string, unknown>;
    upstream: { urls: string[]; timeoutMs: number };
    upstream_auth: UpstreamAuth;
    plan: NonNullable<NonNullable<HubDocument['apis']>[number]['versions']>[number]['plan'];
    sunset_at: Date | null;
  }>(
    `SELECT v.api_id, v.version, v.state, d.document, v.upstream, v.upstream_auth, v.plan, v.sunset_at
       FROM api_versions v JOIN openapi_documents d ON d.hash = v.openapi_hash ORDER BY v.version`,
  );
  const apis = apiRows.map((a) => ({
    org: a.org,
    slug: a.slug,
    name: a.name,
    ...(a.description ? { description: a.description } : {}),
    ...(a.tags.length ? { tags: a.tags } : {}),
    classification: a.classification,
    slaTarget: Number(a.sla_target),
    ...(a.contact ? { contact: a.contact } : {}),
    ...(a.satu_data ? { satuData: a.satu_data } : {}),
    versions: versionRows
      .filter((v) => v.api_id === a.id)
      .map((v) => ({
        version: v.version,
        openapi: v.document,
        upstream: v.upstream,
        upstreamAuth: hubUpstreamAuth(v.upstream_auth, upstreamSecretRef(a.org, a.slug, v.version)),
        plan: v.plan,
        ...(v.sunset_at ? { sunsetAt: new Date(v.sunset_at).toISOString() } : {}),
        state: v.state,
      })),
  }));

  const applications = (
    await db.query<{
      org: string;
      slug: string;
      name: string;
      description: string;
      issuer: string | null;
      external_client_id: string | null;
      client_id: string | null;
    }>(
      `SELECT o.slug AS org, a.slug, a.name, a.description, t.slug AS issuer, a.external_client_id,
              (SELECT min(c.client_id) FROM oauth_clients c WHERE c.application_id = a.id) AS client_id
         FROM applications a JOIN organisations o ON o.id = a.org_id LEFT JOIN trusted_issuers t ON t.id = a.trusted_issuer_id
        ORDER BY o.slug, a.slug`,
    )
  ).map((a) => ({
    org: a.org,
    slug: a.slug,
    name: a.name,
    ...(a.description ? { description: a.description } : {}),
    ...(a.issuer && a.external_client_id
      ? { federated: { issuer: a.issuer, clientClaimValue: a.external_client_id } }
      : { client: a.client_id ? { clientId: a.client_id } : {} }),
  }));

  const subscriptions = await db.query<{
    application: string;
    api: string;
    version: string;
    purpose: string;
    state: 'pending' | 'approved' | 'suspended';
  }>(
    `SELECT ao.slug || '/' || a.slug AS application, po.slug || '/' || p.slug AS api, v.version, s.purpose, s.state
       FROM subscriptions s
       JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
       JOIN api_versions v ON v.id = s.version_id JOIN apis p ON p.id = v.api_id JOIN organisations po ON po.id = p.org_id
      WHERE s.state IN ('pending', 'approved', 'suspended')
      ORDER BY 1, 2, 3`,
  );

  type HubTopic = NonNullable<HubDocument['topics']>[number];
  const topicRows = await db.query<{
    org: string;
    slug: string;
    description: string;
    classification: HubTopic['classification'];
    schema: Record<string, unknown>;
    limits: NonNullable<HubTopic['limits']>;
    state: NonNullable<HubTopic['state']>;
    grants: string[] | null;
  }>(
    `SELECT o.slug AS org, t.slug, t.description, t.classification, es.schema, t.limits, t.state,
            (SELECT array_agg(ao.slug || '/' || a.slug ORDER BY 1) FROM topic_publish_grants g
               JOIN applications a ON a.id = g.application_id JOIN organisations ao ON ao.id = a.org_id
              WHERE g.topic_id = t.id) AS grants
       FROM topics t JOIN organisations o ON o.id = t.org_id JOIN event_schemas es ON es.hash = t.schema_hash
      ORDER BY o.slug, t.slug`,
  );
  const topics = topicRows.map((t) => ({
    org: t.org,
    slug: t.slug,
    ...(t.description ? { description: t.description } : {}),
    classification: t.classification,
    schema: t.schema,
    limits: t.limits,
    ...(t.grants?.length ? { publishGrants: t.grants.sort() } : {}),
    state: t.state,
  }));

  // Live ones only, and never a webhook secret: a re-created push subscription gets a new one.
  type HubTopicSubscription = NonNullable<HubDocument['topicSubscriptions']>[number];
  const topicSubscriptions = (
    await db.query<{
      application: string;
      topic: string;
      purpose: string;
      mode: HubTopicSubscription['mode'];
      push_url: string | null;
      types: string[] | null;
      subject_prefixes: string[] | null;
      state: 'pending' | 'approved' | 'suspended';
    }>(
      `SELECT ao.slug || '/' || a.slug AS application, tor.slug || '/' || t.slug AS topic, s.purpose, s.mode,
              s.push_url, s.types, s.subject_prefixes, s.state
         FROM topic_subscriptions s
         JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
         JOIN topics t ON t.id = s.topic_id JOIN organisations tor ON tor.id = t.org_id
        WHERE s.state IN ('pending', 'approved', 'suspended')
        ORDER BY 1, 2`,
    )
  ).map((s) => ({
    application: s.application,
    topic: s.topic,
    purpose: s.purpose,
    mode: s.mode,
    ...(s.push_url ? { pushUrl: s.push_url } : {}),
    ...(s.types ? { types: s.types } : {}),
    ...(s.subject_prefixes ? { subjectPrefixes: s.subject_prefixes } : {}),
    state: s.state,
  }));

  const spbe = await exportSpbeSection(db);
  return {
    apiVersion: 'spl/v1',
    organisations,
    users,
    trustedIssuers,
    apis,
    applications,
    subscriptions,
    topics,
    topicSubscriptions,
    ...(spbe ? { spbe } : {}),
  };
}
