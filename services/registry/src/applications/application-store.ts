import { randomUUID } from 'node:crypto';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg } from '../auth/policy.js';
import type { Principal } from '../auth/principal.js';
import { errors } from '../errors.js';
import {
  createClient,
  generateClientId,
  isCurrentSecret,
  rotateClientSecret,
  type SecretJsonRow,
  secretsJsonSql,
  secretsOfJson,
} from '../oauth/clients.js';
import { getOrganisationRow } from '../organisations/organisation-store.js';
import type {
  Application,
  ApplicationInput,
  ApplicationPatch,
  FederatedBinding,
} from '../routes/applications/schemas.js';
import type { Sql } from '../store/database.js';
import { isUniqueViolation } from '../store/pg-errors.js';

export interface DbApplicationRow {
  id: string;
  org_id: string;
  slug: string;
  name: string;
  description: string;
  trusted_issuer_id: string | null;
  external_client_id: string | null;
  roles: string[];
  created_at: Date;
  updated_at: Date;
}

type ApplicationRowWithRefs = DbApplicationRow & {
  org: string;
  issuer_slug: string | null;
  client_ids: string[];
  secrets: SecretJsonRow[];
};

/** Default overlap when a secret is rotated: one day for the old one to be rolled out, seconds. */
export const DEFAULT_OVERLAP_SECONDS = 86_400;

const APPLICATION_SELECT = `
  SELECT a.*, o.slug AS org, ti.slug AS issuer_slug,
         coalesce((SELECT array_agg(c.client_id ORDER BY c.client_id) FROM oauth_clients c
                    WHERE c.application_id = a.id), '{}') AS client_ids,
         ${secretsJsonSql('c.application_id = a.id')} AS secrets
    FROM applications a
    JOIN organisations o ON o.id = a.org_id
    LEFT JOIN trusted_issuers ti ON ti.id = a.trusted_issuer_id`;

export function applicationOfRow(row: ApplicationRowWithRefs): Application {
  const federated = row.issuer_slug !== null && row.external_client_id !== null;
  return {
    org: row.org,
    slug: row.slug,
    name: row.name,
    description: row.description,
    kind: federated ? 'federated' : 'credentials',
    clientIds: row.client_ids,
    secrets: secretsOfJson(row.secrets),
    ...(federated
      ? { federated: { issuer: row.issuer_slug!, clientClaimValue: row.external_client_id! } }
      : {}),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The audited form: what the application is, never a secret or its hash. */
function audited(a: Application) {
  return {
    org: a.org,
    slug: a.slug,
    name: a.name,
    description: a.description,
    kind: a.kind,
    clientIds: a.clientIds,
    federated: a.federated ?? null,
  };
}

/** `org/app` as the API and the CLI write it. */
export function applicationRef(a: { org: string; slug: string }): string {
  return `${a.org}/${a.slug}`;
}

export async function listApplications(db: Sql, org: string): Promise<Application[]> {
  await getOrganisationRow(db, org);
  const rows = await db.query<ApplicationRowWithRefs>(
    `${APPLICATION_SELECT} WHERE o.slug = $1 ORDER BY a.slug`,
    [org],
  );
  return rows.map(applicationOfRow);
}

export async function findApplicationRow(
  db: Sql,
  org: string,
  slug: string,
): Promise<ApplicationRowWithRefs | undefined> {
  const [row] = await db.query<ApplicationRowWithRefs>(
    `${APPLICATION_SELECT} WHERE o.slug = $1 AND a.slug = $2`,
    [org, slug],
  );
  return row;
}

export async function getApplicationRow(db: Sql, org: string, slug: string): Promise<ApplicationRowWithRefs> {
  const row = await findApplicationRow(db, org, slug);
  if (!row) throw errors.SPL_NOT_FOUND(`no application ${org}/${slug}`);
  return row;
}

function assertOneKind(input: { credentials?: unknown; federated?: unknown }): void {
  if ((input.credentials === undefined) === (input.federated === undefined))
    throw errors.SPL_VALIDATION('give exactly one of credentials or federated', {
      extensions: {
        errors: [{ pointer: 'body:', message: 'must have exactly one of credentials, federated' }],
      },
    });
}

async function issuerIdOf(tx: Sql, binding: FederatedBinding): Promise<string> {
  const issuer = await tx.query<{ id: string }>('SELECT id FROM trusted_issuers WHERE slug = $1', [
    binding.issuer,
  ]);
  if (!issuer[0])
    throw errors.SPL_VALIDATION(`no trusted issuer ${binding.issuer}`, {
      extensions: { errors: [{ pointer: 'body:/federated/issuer', message: 'must name a trusted issuer' }] },
    });
  return issuer[0].id;
}

/**
 * A consumer application of `org`. With `credentials` it gets an SPL client whose secret is
 * returned here, once; with `federated` it is bound to a trusted issuer's client claim value.
 * `secret` (declarative apply only) is used instead of a generated one.
 */
export async function createApplication(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  input: ApplicationInput,
  now: Date,
  secretMaxAgeDays: number,
  secret?: string,
): Promise<{ application: Application; credentials?: { clientId: string; clientSecret: string } }> {
  assertOneKind(input);
  const orgRow = await getOrganisationRow(tx, org);
  const issuerId = input.federated ? await issuerIdOf(tx, input.federated) : null;
  const id = randomUUID();
  try {
    await tx.query(
      `INSERT INTO applications (id, org_id, slug, name, description, trusted_issuer_id, external_client_id,
                                 created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
      [
        id,
        orgRow.id,
        input.slug,
        input.name,
        input.description ?? '',
        issuerId,
        input.federated?.clientClaimValue ?? null,
        now.toISOString(),
      ],
    );
    const credentials = input.credentials
      ? await createClient(tx, {
          clientId: input.credentials.clientId ?? generateClientId(`${org}-${input.slug}`),
          kind: 'application',
          orgId: orgRow.id,
          applicationId: id,
          roles: ['consumer'],
          ...(secret ? { secret } : {}),
          now,
          secretMaxAgeDays,
        })
      : undefined;
    const application = applicationOfRow((await getApplicationRow(tx, org, input.slug))!);
    await audit({
      action: 'application.create',
      entityType: 'application',
      entityId: applicationRef(application),
      after: audited(application),
    });
    return { application, ...(credentials ? { credentials } : {}) };
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT(
        input.federated
          ? `application ${org}/${input.slug} exists, or another application is bound to ${input.federated.issuer} with that claim value`
          : `application ${org}/${input.slug} or client ${input.credentials?.clientId ?? ''} already exists`,
      );
    throw err;
  }
}

/** Applies the fields given; writes and records nothing when they change nothing. */
export async function updateApplication(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  slug: string,
  patch: ApplicationPatch,
  now: Date,
): Promise<{ application: Application; changed: boolean }> {
  const current = applicationOfRow(await getApplicationRow(tx, org, slug));
  if (patch.federated && current.kind !== 'federated')
    throw errors.SPL_CONFLICT(
      `application ${org}/${slug} holds SPL credentials; it cannot be bound to an issuer`,
    );
  const next: Application = {
    ...current,
    name: patch.name ?? current.name,
    description: patch.description ?? current.description,
    ...(patch.federated ? { federated: patch.federated } : {}),
  };
  if (JSON.stringify(audited(next)) === JSON.stringify(audited(current)))
    return { application: current, changed: false };
  const issuerId = next.federated ? await issuerIdOf(tx, next.federated) : null;
  try {
    await tx.query(
      `UPDATE applications a SET name = $3, description = $4, trusted_issuer_id = $5, external_client_id = $6,
              updated_at = $7
         FROM organisations o
        WHERE o.id = a.org_id AND o.slug = $1 AND a.slug = $2`,
      [
        org,
        slug,
        next.name,
        next.description,
        issuerId,
        next.federated?.clientClaimValue ?? null,
        now.toISOString(),
      ],
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw errors.SPL_CONFLICT('another application is bound to that issuer and claim value');
    throw err;
  }
  const application = applicationOfRow(await getApplicationRow(tx, org, slug));
  await audit({
    action: 'application.update',
    entityType: 'application',
    entityId: `${org}/${slug}`,
    before: audited(current),
    after: audited(application),
  });
  return { application, changed: true };
}

/**
 * A new secret for the application's SPL client; the ones valid until now stay valid for
 * `overlapSeconds` (0 ends them now). The audit record names the client, never the secret.
 */
export async function rotateApplicationSecret(
  tx: Sql,
  audit: RecordAudit,
  org: string,
  slug: string,
  overlapSeconds: number,
  now: Date,
  secretMaxAgeDays: number,
  secret?: string,
): Promise<{ clientId: string; clientSecret: string; previousExpireAt: string; expiresAt: string | null }> {
  const app = applicationOfRow(await getApplicationRow(tx, org, slug));
  const clientId = app.clientIds[0];
  if (app.kind !== 'credentials' || !clientId)
    throw errors.SPL_CONFLICT(`application ${org}/${slug} is federated; its credentials live at its issuer`);
  const rotated = await rotateClientSecret(tx, clientId, {
    overlapSeconds,
    now,
    secretMaxAgeDays,
    ...(secret ? { secret } : {}),
  });
  await audit({
    action: 'application.secret.rotate',
    entityType: 'application',
    entityId: `${org}/${slug}`,
    after: {
      clientId,
      overlapSeconds,
      previousExpireAt: rotated.previousExpireAt,
      expiresAt: rotated.expiresAt,
    },
  });
  return { clientId, ...rotated };
}

/** A person's own personal client gets a new secret (`POST /v1/me/secret`). */
export async function rotatePersonalSecret(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  overlapSeconds: number,
  now: Date,
  secretMaxAgeDays: number,
): Promise<{ clientId: string; clientSecret: string; previousExpireAt: string; expiresAt: string | null }> {
  const [client] = await tx.query<{ kind: string }>('SELECT kind FROM oauth_clients WHERE client_id = $1', [
    principal.clientId,
  ]);
  if (client?.kind !== 'personal' || !principal.userId)
    throw errors.SPL_PERSON_REQUIRED(`${principal.clientId} is not a personal client`);
  const rotated = await rotateClientSecret(tx, principal.clientId, { overlapSeconds, now, secretMaxAgeDays });
  await audit({
    action: 'client.secret.rotate',
    entityType: 'client',
    entityId: principal.clientId,
    after: {
      clientId: principal.clientId,
      overlapSeconds,
      previousExpireAt: rotated.previousExpireAt,
      expiresAt: rotated.expiresAt,
    },
  });
  return { clientId: principal.clientId, ...rotated };
}

/** What `spl apply` says about one application. `secret` comes from the file's `secretRef`. */
export type ApplyApplicationInput = ApplicationInput & { org: string; secret?: string };

/**
 * Declarative apply (`spl apply`): creates the application or brings its name, description
 * and binding to `input`; idempotent. With a provided secret that is not one of the client's
 * current secrets, rotates to it (the old ones keep the default overlap). On create with
 * credentials, the secret is returned once (only when it was generated here).
 */
export async function applyApplication(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  input: ApplyApplicationInput,
  ctx: { clock: () => Date; config: { SPL_SECRET_MAX_AGE_DAYS: number } },
): Promise<{
  result: 'created' | 'updated' | 'unchanged';
  application: Application;
  credentials?: { clientId: string; clientSecret: string };
}> {
  assertActsForOrg(principal, input.org, ['consumer', 'publisher']);
  assertOneKind(input);
  const now = ctx.clock();
  const { org, secret, ...fields } = input;
  const existing = await findApplicationRow(tx, org, input.slug);
  if (!existing) {
    const created = await createApplication(
      tx,
      audit,
      org,
      fields,
      now,
      ctx.config.SPL_SECRET_MAX_AGE_DAYS,
      secret,
    );
    return {
      result: 'created',
      application: created.application,
      ...(created.credentials && !secret ? { credentials: created.credentials } : {}),
    };
  }
  const current = applicationOfRow(existing);
  const wantKind = input.credentials ? 'credentials' : 'federated';
  if (current.kind !== wantKind)
    throw errors.SPL_CONFLICT(
      `application ${org}/${input.slug} is ${current.kind}; it cannot become ${wantKind}`,
    );
  const clientId = current.clientIds[0];
  if (input.credentials?.clientId && clientId && input.credentials.clientId !== clientId)
    throw errors.SPL_CONFLICT(
      `application ${org}/${input.slug} has client ${clientId}; a client id cannot change`,
    );
  const { changed } = await updateApplication(
    tx,
    audit,
    org,
    input.slug,
    {
      name: input.name,
      description: input.description ?? '',
      ...(input.federated ? { federated: input.federated } : {}),
    },
    now,
  );
  let rotated = false;
  if (secret && clientId && !(await isCurrentSecret(tx, clientId, secret, now))) {
    await rotateApplicationSecret(
      tx,
      audit,
      org,
      input.slug,
      DEFAULT_OVERLAP_SECONDS,
      now,
      ctx.config.SPL_SECRET_MAX_AGE_DAYS,
      secret,
    );
    rotated = true;
  }
  const application =
    changed || rotated ? applicationOfRow(await getApplicationRow(tx, org, input.slug)) : current;
  return { result: changed || rotated ? 'updated' : 'unchanged', application };
}
