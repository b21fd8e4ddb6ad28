import { canonicalJson } from '@spl/audit-chain';
import { isSplError } from '@spl/problem';
import { applyApi } from '../apis/api-store.js';
import {
  applyVersion,
  getVisibleVersionRows,
  openUpstreamSecret,
  type VersionRef,
} from '../apis/version-store.js';
import { applyApplication } from '../applications/application-store.js';
import type { RecordAudit } from '../audit/mutations.js';
import { hasRole, type Principal } from '../auth/principal.js';
import { errors } from '../errors.js';
import { transitionVersion } from '../lifecycle/transitions.js';
import { isCurrentSecret, rotateClientSecret } from '../oauth/clients.js';
import {
  createOrganisation,
  findOrganisationRow,
  updateOrganisation,
} from '../organisations/organisation-store.js';
import type { RegistryContext } from '../registry-context.js';
import type { LifecycleAction, UpstreamAuthInput, VersionState } from '../routes/apis/schemas.js';
import type { HubDocument, HubUpstreamAuth, HubUser } from '../routes/declarative/schemas.js';
import { applySpbeSection } from '../spbe/apply-spbe.js';
import type { Sql } from '../store/database.js';
import { applySubscription } from '../subscriptions/subscription-store.js';
import { applyTopic, getVisibleTopicRow, transitionTopic } from '../topics/topic-store.js';
import { applyTopicSubscription } from '../topics/topic-subscription-store.js';
import { applyTrustedIssuer, issuerUrlPolicyOf } from '../trusted-issuers/trusted-issuer-store.js';
import { createUser, findUserByUsername, updateUser } from '../users/user-store.js';
import { ApplyReport } from './apply-report.js';

type ApplyContext = Pick<RegistryContext, 'config' | 'secretBox' | 'clock'>;

/** The forward path of the lifecycle: from each state, the action that leads on. */
const NEXT: Partial<Record<VersionState, LifecycleAction>> = {
  draft: 'submit',
  submitted: 'approve',
  kelaikan_operasi: 'approve',
  kelaikan_keamanan: 'publish',
  published: 'deprecate',
  deprecated: 'retire',
};
const ORDER: VersionState[] = [
  'draft',
  'submitted',
  'kelaikan_operasi',
  'kelaikan_keamanan',
  'published',
  'deprecated',
  'retired',
];

/**
 * Runs `step`; a refusal because of who the caller is (a role, another organisation, not a
 * person) becomes a `refused`/`pending` line instead of failing the whole apply. Those
 * refusals are raised before anything is written, so the transaction stays clean. Every
 * other error fails the apply, and its transaction writes nothing.
 */
async function unlessRefused<T>(
  step: () => Promise<T>,
): Promise<T | { refusedBecause: string; personRequired: boolean }> {
  try {
    return await step();
  } catch (err) {
    if (isSplError(err) && (err.code === 'SPL_FORBIDDEN' || err.code === 'SPL_PERSON_REQUIRED'))
      return { refusedBecause: err.message, personRequired: err.code === 'SPL_PERSON_REQUIRED' };
    throw err;
  }
}
function isRefusal(x: unknown): x is { refusedBecause: string; personRequired: boolean } {
  return typeof x === 'object' && x !== null && 'refusedBecause' in x;
}

async function applyUser(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  user: HubUser,
  ctx: ApplyContext,
  report: ApplyReport,
) {
  const existing = await findUserByUsername(tx, user.username);
  const now = ctx.clock();
  if (!existing) {
    if (!hasRole(principal, 'operator'))
      return report.add('user', user.username, 'refused', 'only operators register people');
    const { credentials } = await createUser(
      tx,
      audit,
      {
        username: user.username,
        name: user.name,
        org: user.org,
        roles: user.roles,
        ...(user.email ? { email: user.email } : {}),
        ...(user.client?.clientId ? { clientId: user.client.clientId } : {}),
      },
      now,
      ctx.config.SPL_SECRET_MAX_AGE_DAYS,
      user.client?.secret,
    );
    if (!user.client?.secret)
      report.issuedCredentials.push({ kind: 'user', id: user.username, ...credentials });
    return report.add('user', user.username, 'created');
  }
  if (existing.org !== user.org)
    throw errors.SPL_CONFLICT(
      `user ${user.username} belongs to ${existing.org}; a person cannot move organisation`,
    );
  if (user.client?.clientId && !existing.clientIds.includes(user.client.clientId))
    throw errors.SPL_CONFLICT(
      `user ${user.username} has client ${existing.clientIds.join(', ')}; a client id cannot change`,
    );
  const differs =
    existing.name !== user.name ||
    (existing.email ?? null) !== (user.email ?? null) ||
    [...existing.roles].sort().join() !== [...user.roles].sort().join();
  let result: 'updated' | 'unchanged' = 'unchanged';
  if (differs) {
    if (!hasRole(principal, 'operator'))
      return report.add('user', user.username, 'refused', 'only operators change people');
    await updateUser(
      tx,
      audit,
      user.username,
      { name: user.name, ...(user.email ? { email: user.email } : {}), roles: user.roles },
      now,
    );
    result = 'updated';
  }
  const clientId = existing.clientIds[0];
  if (user.client?.secret && clientId && !(await isCurrentSecret(tx, clientId, user.client.secret, now))) {
    if (!hasRole(principal, 'operator') && principal.userId !== existing.id)
      return report.add(
        'user',
        user.username,
        'refused',
        'only operators or the person change a personal secret',
      );
    await rotateClientSecret(tx, clientId, {
      overlapSeconds: 0,
      now,
      secretMaxAgeDays: ctx.config.SPL_SECRET_MAX_AGE_DAYS,
      secret: user.client.secret,
    });
    await audit({
      action: 'client.rotate-secret',
      entityType: 'client',
      entityId: clientId,
      after: { clientId, overlapSeconds: 0 },
    });
    result = 'updated';
  }
  report.add('user', user.username, result);
}

/** The file's upstream auth in REST form; a secret left out is the one already stored. */
async function upstreamAuthInput(
  tx: Sql,
  ref: VersionRef,
  auth: HubUpstreamAuth | undefined,
  ctx: ApplyContext,
): Promise<UpstreamAuthInput> {
  if (!auth || auth.kind === 'none') return { kind: 'none' };
  let secret = auth.secret;
  if (secret === undefined) {
    const [row] = await tx.query<{ id: string; upstream_secret: string | null }>(
      `SELECT v.id, v.upstream_secret FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
        WHERE o.slug = $1 AND a.slug = $2 AND v.version = $3`,
      [ref.org, ref.api, ref.version],
    );
    const stored = row ? openUpstreamSecret(ctx.secretBox, row) : null;
    if (!stored)
      throw errors.SPL_VALIDATION(
        `${ref.org}/${ref.api}/${ref.version}: upstreamAuth ${auth.kind} needs its secret (secretRef)`,
        {
          extensions: {
            errors: [
              {
                pointer: `body:/apis/${ref.org}/${ref.api}/versions/${ref.version}/upstreamAuth/secret`,
                message: 'is required for a new version',
              },
            ],
          },
        },
      );
    secret = Object.values(stored)[0] as string;
  }
  switch (auth.kind) {
    case 'header':
      return { kind: 'header', name: auth.name, value: secret };
    case 'oauth2':
      return {
        kind: 'oauth2',
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: secret,
        ...(auth.scope ? { scope: auth.scope } : {}),
      };
    case 'mtls':
      return {
        kind: 'mtls',
        certificatePem: auth.certificatePem,
        privateKeyPem: secret,
        ...(auth.caPem ? { caPem: auth.caPem } : {}),
      };
  }
}

/** A version's state as the caller may see it; undefined for one it may not (as REST answers 404). */
async function versionState(
  tx: Sql,
  principal: Principal,
  ref: VersionRef,
): Promise<VersionState | undefined> {
  try {
    return (await getVisibleVersionRows(tx, principal, ref)).version.state;
  } catch (err) {
    if (isSplError(err) && err.code === 'SPL_NOT_FOUND') return undefined;
    throw err;
  }
}

async function versionExists(tx: Sql, principal: Principal, ref: VersionRef): Promise<boolean> {
  return (await versionState(tx, principal, ref)) !== undefined;
}

/** Moves a version towards `desired` one gate at a time, as far as the caller may. */
async function moveVersionTowards(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  ref: VersionRef,
  desired: VersionState,
  ctx: ApplyContext,
  report: ApplyReport,
): Promise<void> {
  const id = `${ref.org}/${ref.api}/${ref.version}`;
  let state = (await versionState(tx, principal, ref))!;
  if (ORDER.indexOf(state) > ORDER.indexOf(desired))
    return report.add(
      'api_version',
      id,
      'refused',
      `is ${state}; a version does not move back to ${desired}`,
    );
  const steps: string[] = [];
  while (state !== desired) {
    const action = NEXT[state]!;
    const out = await unlessRefused(() => transitionVersion(tx, audit, principal, ref, { action }, ctx));
    if (isRefusal(out)) {
      const waiting = `${state}; waiting to ${action}: ${out.refusedBecause}`;
      return report.add(
        'api_version',
        id,
        steps.length ? 'transitioned' : 'pending',
        steps.length ? `${steps.join(', ')}; now ${waiting}` : waiting,
      );
    }
    steps.push(action);
    state = out.state;
  }
  if (steps.length) report.add('api_version', id, 'transitioned', `${steps.join(', ')} → ${state}`);
}

/**
 * `spl apply`: brings the registry to what the document says, in dependency order, in the
 * caller's transaction. Idempotent: what already matches writes and records nothing.
 * Lifecycle and consent move only as far as the caller's roles allow, each step audited —
 * apply is no way around the approval gates; what remains is reported as `pending`.
 */
export async function applyHubDocument(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  doc: HubDocument,
  ctx: ApplyContext,
): Promise<ApplyReport> {
  const report = new ApplyReport();
  const now = ctx.clock();

  for (const org of doc.organisations ?? []) {
    const existing = await findOrganisationRow(tx, org.slug);
    if (!existing) {
      if (!hasRole(principal, 'operator')) {
        report.add('organisation', org.slug, 'refused', 'only operators register organisations');
        continue;
      }
      await createOrganisation(tx, audit, org, now);
      report.add('organisation', org.slug, 'created');
      continue;
    }
    const same =
      existing.name === org.name &&
      existing.kind === org.kind &&
      canonicalJson(existing.contacts) === canonicalJson(org.contacts ?? []);
    if (same) {
      report.add('organisation', org.slug, 'unchanged');
      continue;
    }
    if (
      !hasRole(principal, 'operator') &&
      !(principal.org === org.slug && hasRole(principal, 'publisher') && existing.kind === org.kind)
    ) {
      report.add(
        'organisation',
        org.slug,
        'refused',
        'only operators (or its publishers, except its kind) change an organisation',
      );
      continue;
    }
    await updateOrganisation(
      tx,
      audit,
      org.slug,
      { name: org.name, kind: org.kind, contacts: org.contacts ?? [] },
      now,
    );
    report.add('organisation', org.slug, 'updated');
  }

  for (const user of doc.users ?? []) await applyUser(tx, audit, principal, user, ctx, report);

  for (const issuer of doc.trustedIssuers ?? []) {
    if (!hasRole(principal, 'operator')) {
      report.add(
        'trusted_issuer',
        issuer.slug,
        'unchanged',
        'not checked: only operators manage trusted issuers',
      );
      continue;
    }
    const { result } = await applyTrustedIssuer(tx, audit, issuer, now, issuerUrlPolicyOf(ctx.config));
    report.add('trusted_issuer', issuer.slug, result);
  }

  for (const { versions, org, ...api } of doc.apis ?? []) {
    const id = `${org}/${api.slug}`;
    // The definition is the owner's to change; the lifecycle below has gates of its own
    // (a reviewer applying the same file grants kelaikan keamanan, and changes nothing else).
    const result = await unlessRefused(() => applyApi(tx, audit, principal, { org, ...api }, now));
    report.add(
      'api',
      id,
      isRefusal(result) ? 'refused' : result,
      isRefusal(result) ? `definition not checked: ${result.refusedBecause}` : undefined,
    );
    for (const { state, ...version } of versions ?? []) {
      const ref = { org, api: api.slug, version: version.version };
      const input = { ...version, upstreamAuth: await upstreamAuthInput(tx, ref, version.upstreamAuth, ctx) };
      const vResult = await unlessRefused(() =>
        applyVersion(tx, audit, principal, org, api.slug, input, ctx),
      );
      if (isRefusal(vResult)) {
        report.add(
          'api_version',
          `${id}/${version.version}`,
          'refused',
          `definition not checked: ${vResult.refusedBecause}`,
        );
        if (!(await versionExists(tx, principal, ref))) continue;
      } else report.add('api_version', `${id}/${version.version}`, vResult);
      await moveVersionTowards(tx, audit, principal, ref, state ?? 'draft', ctx, report);
    }
  }

  for (const { client, org, ...app } of doc.applications ?? []) {
    const id = `${org}/${app.slug}`;
    const out = await unlessRefused(() =>
      applyApplication(
        tx,
        audit,
        principal,
        {
          org,
          ...app,
          // Not federated means SPL client credentials, with or without a `client` block.
          ...(app.federated ? {} : { credentials: client?.clientId ? { clientId: client.clientId } : {} }),
          ...(client?.secret ? { secret: client.secret } : {}),
        },
        ctx,
      ),
    );
    if (isRefusal(out)) {
      report.add('application', id, 'refused', out.refusedBecause);
      continue;
    }
    report.add('application', id, out.result);
    if (out.credentials) report.issuedCredentials.push({ kind: 'application', id, ...out.credentials });
  }

  for (const sub of doc.subscriptions ?? []) {
    const id = `${sub.application} → ${sub.api}/${sub.version}`;
    const [apiOrg, apiSlug] = sub.api.split('/') as [string, string];
    const state = await versionState(tx, principal, { org: apiOrg, api: apiSlug, version: sub.version });
    if (state !== 'published' && state !== 'deprecated') {
      report.add(
        'subscription',
        id,
        'pending',
        `waiting for ${sub.api}/${sub.version} to be published (it is ${state ?? 'missing'})`,
      );
      continue;
    }
    const out = await unlessRefused(() => applySubscription(tx, audit, principal, sub, ctx));
    if (isRefusal(out)) {
      report.add('subscription', id, 'refused', out.refusedBecause);
      continue;
    }
    report.add(
      'subscription',
      id,
      out.result,
      [out.did.length ? `did ${out.did.join(', ')}` : '', out.pending ?? ''].filter(Boolean).join('; ') ||
        undefined,
    );
  }
  for (const { state, ...topic } of doc.topics ?? []) {
    const id = `${topic.org}/${topic.slug}`;
    const result = await unlessRefused(() => applyTopic(tx, audit, principal, topic, now));
    if (isRefusal(result)) {
      report.add('topic', id, 'refused', `definition not checked: ${result.refusedBecause}`);
      if ((await topicState(tx, principal, topic.org, topic.slug)) === undefined) continue;
    } else report.add('topic', id, result);
    await moveTopicTowards(tx, audit, principal, topic.org, topic.slug, state ?? 'draft', ctx, report);
  }

  for (const sub of doc.topicSubscriptions ?? []) {
    const id = `${sub.application} → ${sub.topic}`;
    const [topicOrg, topicSlug] = sub.topic.split('/') as [string, string];
    const state = await topicState(tx, principal, topicOrg, topicSlug);
    if (state !== 'published' && state !== 'deprecated') {
      report.add(
        'topic_subscription',
        id,
        'pending',
        `waiting for ${sub.topic} to be published (it is ${state ?? 'missing'})`,
      );
      continue;
    }
    const out = await unlessRefused(() => applyTopicSubscription(tx, audit, principal, sub, ctx));
    if (isRefusal(out)) {
      report.add('topic_subscription', id, 'refused', out.refusedBecause);
      continue;
    }
    if (out.secret && out.topicSubscription)
      report.issuedCredentials.push({
        kind: 'topic_subscription',
        id,
        clientId: out.topicSubscription.id,
        clientSecret: out.secret,
      });
    report.add(
      'topic_subscription',
      id,
      out.result,
      [out.did.length ? `did ${out.did.join(', ')}` : '', out.pending ?? ''].filter(Boolean).join('; ') ||
        undefined,
    );
  }

  if (doc.spbe) await applySpbeSection(tx, audit, principal, doc.spbe, now, report);
  return report;
}

/** A topic's state as the caller may see it; undefined for one it may not. */
async function topicState(
  tx: Sql,
  principal: Principal,
  org: string,
  topic: string,
): Promise<VersionState | undefined> {
  try {
    return (await getVisibleTopicRow(tx, principal, { org, topic })).state;
  } catch (err) {
    if (isSplError(err) && err.code === 'SPL_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Moves a topic towards `desired` one gate at a time, as far as the caller may (as for versions). */
async function moveTopicTowards(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  org: string,
  topic: string,
  desired: VersionState,
  ctx: ApplyContext,
  report: ApplyReport,
): Promise<void> {
  const id = `${org}/${topic}`;
  let state = (await topicState(tx, principal, org, topic))!;
  if (ORDER.indexOf(state) > ORDER.indexOf(desired))
    return report.add('topic', id, 'refused', `is ${state}; a topic does not move back to ${desired}`);
  const steps: string[] = [];
  while (state !== desired) {
    const action = NEXT[state]!;
    const out = await unlessRefused(() =>
      transitionTopic(tx, audit, principal, { org, topic }, { action }, ctx),
    );
    if (isRefusal(out)) {
      const waiting = `${state}; waiting to ${action}: ${out.refusedBecause}`;
      return report.add(
        'topic',
        id,
        steps.length ? 'transitioned' : 'pending',
        steps.length ? `${steps.join(', ')}; now ${waiting}` : waiting,
      );
    }
    steps.push(action);
    state = out.state;
  }
  if (steps.length) report.add('topic', id, 'transitioned', `${steps.join(', ')} → ${state}`);
}
