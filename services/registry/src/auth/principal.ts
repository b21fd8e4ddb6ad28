import type { ROLE_NAMES } from '../config.js';

export type Role = (typeof ROLE_NAMES)[number];

/** Who is calling: the OAuth2 client behind the bearer token, and the person if it is a personal client. */
export interface Principal {
  clientId: string;
  /** Slug of the client's organisation. */
  org: string;
  roles: Role[];
  /** Set for personal clients: the named person acting. */
  userId?: string;
}

/** How an audit record names the actor. */
export interface Actor {
  clientId: string;
  org: string;
  roles: string[];
  userId?: string;
}

export const SYSTEM_ACTOR: Actor = { clientId: 'system', org: 'system', roles: [] };

export function actorOf(principal: Principal): Actor {
  return {
    clientId: principal.clientId,
    org: principal.org,
    roles: principal.roles,
    ...(principal.userId ? { userId: principal.userId } : {}),
  };
}

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}
