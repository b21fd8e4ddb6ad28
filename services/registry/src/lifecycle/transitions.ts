import { randomUUID } from 'node:crypto';
import {
  type DbApiVersionRow,
  getVisibleVersionRows,
  type VersionRef,
  versionOfRow,
} from '../apis/version-store.js';
import type { RecordAudit } from '../audit/mutations.js';
import { assertActsForOrg, assertPerson } from '../auth/policy.js';
import { hasRole, type Principal, type Role } from '../auth/principal.js';
import type { RegistryConfig } from '../config.js';
import { errors } from '../errors.js';
import type {
  ApiVersion,
  LifecycleAction,
  Transition,
  TransitionInput,
  VersionState,
} from '../routes/apis/schemas.js';
import type { Sql } from '../store/database.js';

/** What the lifecycle needs from the registry: who approves (DIGEST §8.1) and the time. */
export interface LifecycleContext {
  config: Pick<RegistryConfig, 'SPL_APPROVER_KELAIKAN_OPERASI' | 'SPL_APPROVER_KELAIKAN_KEAMANAN'>;
  clock: () => Date;
}

/**
 * Who may make a transition. `owner`: publishers of the owning organisation, or operators.
 * `operator`: operators only. `approver`: a named person holding the role that the
 * deployment configures for that gate.
 */
type Actor =
  | { kind: 'owner' }
  | { kind: 'operator' }
  | { kind: 'approver'; gate: 'SPL_APPROVER_KELAIKAN_OPERASI' | 'SPL_APPROVER_KELAIKAN_KEAMANAN' };

export interface Rule {
  action: LifecycleAction;
  from: VersionState;
  to: VersionState;
  by: Actor;
}

/**
 * The version lifecycle (DIGEST §9.3; BKS 22(3)(c)–(d), BBU 15(3)(c)–(d)):
 *
 *   draft ─submit→ submitted ─approve→ kelaikan_operasi ─approve→ kelaikan_keamanan ─publish→ published
 *     ↑              │ reject               │ reject                                             │ deprecate
 *     └──────────────┴──────────────────────┘                                                    ▼
 *                                              retired ←retire (operator)── published    deprecated ─retire→ retired
 */
export const LIFECYCLE: readonly Rule[] = [
  { action: 'submit', from: 'draft', to: 'submitted', by: { kind: 'owner' } },
  {
    action: 'approve',
    from: 'submitted',
    to: 'kelaikan_operasi',
    by: { kind: 'approver', gate: 'SPL_APPROVER_KELAIKAN_OPERASI' },
  },
  {
    action: 'reject',
    from: 'submitted',
    to: 'draft',
    by: { kind: 'approver', gate: 'SPL_APPROVER_KELAIKAN_OPERASI' },
  },
  {
    action: 'approve',
    from: 'kelaikan_operasi',
    to: 'kelaikan_keamanan',
    by: { kind: 'approver', gate: 'SPL_APPROVER_KELAIKAN_KEAMANAN' },
  },
  {
    action: 'reject',
    from: 'kelaikan_operasi',
    to: 'draft',
    by: { kind: 'approver', gate: 'SPL_APPROVER_KELAIKAN_KEAMANAN' },
  },
  { action: 'publish', from: 'kelaikan_keamanan', to: 'published', by: { kind: 'owner' } },
  { action: 'deprecate', from: 'published', to: 'deprecated', by: { kind: 'owner' } },
  { action: 'retire', from: 'deprecated', to: 'retired', by: { kind: 'owner' } },
  { action: 'retire', from: 'published', to: 'retired', by: { kind: 'operator' } },
];

const GATE_NAMES = {
  SPL_APPROVER_KELAIKAN_OPERASI: 'kelaikan operasi',
  SPL_APPROVER_KELAIKAN_KEAMANAN: 'kelaikan keamanan',
} as const;

/** Roles that can make at least one transition under this configuration (the route's access rule). */
export function transitionRoles(config: LifecycleContext['config']): Role[] {
  return [
    ...new Set<Role>([
      'operator',
      'publisher',
      config.SPL_APPROVER_KELAIKAN_OPERASI,
      config.SPL_APPROVER_KELAIKAN_KEAMANAN,
    ]),
  ];
}

export function allowedActions(state: VersionState): LifecycleAction[] {
  return [...new Set(LIFECYCLE.filter((r) => r.from === state).map((r) => r.action))];
}

function assertMayMake(
  principal: Principal,
  rule: Rule,
  ownerOrg: string,
  ctx: LifecycleContext,
): string | undefined {
  switch (rule.by.kind) {
    case 'owner':
      assertActsForOrg(principal, ownerOrg, ['publisher']);
      return principal.userId;
    case 'operator':
      if (!hasRole(principal, 'operator'))
        throw errors.SPL_FORBIDDEN(`only operators retire what is published; deprecate it first`);
      return principal.userId;
    case 'approver': {
      const gate = GATE_NAMES[rule.by.gate];
      // Approvals and rejections are a person's act: they record who gave them.
      const userId = assertPerson(
        principal,
        `${rule.action === 'approve' ? 'granting' : 'refusing'} ${gate}`,
      );
      const role = ctx.config[rule.by.gate];
      if (!hasRole(principal, role))
        throw errors.SPL_FORBIDDEN(`${gate} is granted or refused by the role ${role}`);
      return userId;
    }
  }
}

/** A transition found allowed: the rule, the person who made it, and the review note to keep. */
export interface CheckedTransition {
  rule: Rule;
  userId: string | undefined;
}

/**
 * The gates themselves, for anything with this lifecycle (API versions, event topics):
 * finds the rule for `request.action` from `state` and checks that the caller may make it.
 * Throws SPL_INVALID_TRANSITION, SPL_FORBIDDEN, SPL_PERSON_REQUIRED or SPL_VALIDATION
 * (a rejection without a reason); writes nothing.
 */
export function checkTransition(
  principal: Principal,
  what: string,
  ownerOrg: string,
  state: VersionState,
  request: TransitionInput,
  ctx: LifecycleContext,
): CheckedTransition {
  const rule = LIFECYCLE.find((r) => r.from === state && r.action === request.action);
  if (!rule) {
    const allowed = allowedActions(state);
    throw errors.SPL_INVALID_TRANSITION(
      `${what} is ${state}; ${request.action} is not allowed from there (allowed: ${
        allowed.length ? allowed.join(', ') : 'none'
      })`,
      { extensions: { state, allowedActions: allowed } },
    );
  }
  const userId = assertMayMake(principal, rule, ownerOrg, ctx);
  if (rule.action === 'reject' && !request.reason?.trim())
    throw errors.SPL_VALIDATION('a rejection needs a reason; the publisher reads it', {
      extensions: { errors: [{ pointer: 'body:/reason', message: 'is required to reject' }] },
    });
  return { rule, userId };
}

/**
 * Makes one lifecycle transition, inside the caller's transaction, and records it in
 * `version_transitions` and the audit trail. Used by the REST route and by `spl apply`,
 * so apply is no way around the gates. Throws SPL_NOT_FOUND (a version the caller may not
 * see), SPL_INVALID_TRANSITION (naming the state and what it allows), SPL_FORBIDDEN,
 * SPL_PERSON_REQUIRED, or SPL_VALIDATION (a rejection without a reason).
 */
export async function transitionVersion(
  tx: Sql,
  audit: RecordAudit,
  principal: Principal,
  ref: VersionRef,
  request: TransitionInput,
  ctx: LifecycleContext,
): Promise<ApiVersion> {
  const { version } = await getVisibleVersionRows(tx, principal, ref, { forUpdate: true });
  const name = `${ref.org}/${ref.api}/${ref.version}`;
  const { rule, userId } = checkTransition(
    principal,
    `version ${name}`,
    ref.org,
    version.state,
    request,
    ctx,
  );
  if (request.sunsetAt !== undefined && rule.action !== 'deprecate')
    throw errors.SPL_VALIDATION('sunsetAt is given only when deprecating', {
      extensions: { errors: [{ pointer: 'body:/sunsetAt', message: 'only with action deprecate' }] },
    });

  const now = ctx.clock().toISOString();
  const reviewNote =
    rule.action === 'reject'
      ? request.reason!.trim()
      : rule.action === 'approve'
        ? null
        : version.review_note;
  const sunsetAt = request.sunsetAt ? new Date(request.sunsetAt).toISOString() : version.sunset_at;
  const [row] = await tx.query<DbApiVersionRow>(
    `UPDATE api_versions SET state = $2, review_note = $3, sunset_at = $4, updated_at = $5 WHERE id = $1 RETURNING *`,
    [version.id, rule.to, reviewNote, sunsetAt, now],
  );
  await tx.query(
    `INSERT INTO version_transitions (id, version_id, from_state, to_state, action, client_id, user_id, reason, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      randomUUID(),
      version.id,
      rule.from,
      rule.to,
      rule.action,
      principal.clientId,
      userId ?? null,
      request.reason ?? null,
      now,
    ],
  );
  await audit({
    action: `api_version.${rule.action}`,
    entityType: 'api_version',
    entityId: name,
    before: { state: rule.from },
    after: {
      state: rule.to,
      ...(request.reason ? { reason: request.reason } : {}),
      ...(request.sunsetAt ? { sunsetAt } : {}),
    },
  });
  return versionOfRow(row!, ref.org, ref.api);
}

interface DbTransitionRow {
  action: LifecycleAction;
  from_state: VersionState;
  to_state: VersionState;
  client_id: string;
  user_id: string | null;
  reason: string | null;
  at: Date;
}

/** A version's lifecycle history, oldest first, for a caller who may see the version. */
export async function listTransitions(db: Sql, principal: Principal, ref: VersionRef): Promise<Transition[]> {
  const { version } = await getVisibleVersionRows(db, principal, ref);
  const rows = await db.query<DbTransitionRow>(
    'SELECT * FROM version_transitions WHERE version_id = $1 ORDER BY at, id',
    [version.id],
  );
  return rows.map((r) => ({
    action: r.action,
    from: r.from_state,
    to: r.to_state,
    clientId: r.client_id,
    ...(r.user_id ? { userId: r.user_id } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    at: new Date(r.at).toISOString(),
  }));
}
