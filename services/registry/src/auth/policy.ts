import { errors } from '../errors.js';
import { hasRole, type Principal, type Role } from './principal.js';

/**
 * Resource-level rules that a route's role list cannot express alone: a publisher or
 * consumer acts for its own organisation only; operators act for every organisation.
 */
export function assertActsForOrg(principal: Principal, orgSlug: string, roles: Role[]): void {
  if (hasRole(principal, 'operator')) return;
  if (principal.org === orgSlug && hasRole(principal, ...roles)) return;
  throw errors.SPL_FORBIDDEN(
    `acting for organisation ${orgSlug} needs one of: operator, ${roles.join(', ')} of ${orgSlug}`,
  );
}

/** Approvals, rejections and consents are a person's act (the bootstrap client has no person). */
export function assertPerson(principal: Principal, act: string): string {
  if (!principal.userId)
    throw errors.SPL_PERSON_REQUIRED(
      `${act} must be done by a named person with a personal client, not by ${principal.clientId}`,
    );
  return principal.userId;
}

/** Roles that may read everything in the registry (auditors read-only). */
export function canReadAll(principal: Principal): boolean {
  return hasRole(principal, 'operator', 'auditor', 'reviewer');
}
