import { randomUUID } from 'node:crypto';
import { type CryptoKey, SignJWT } from 'jose';

/** RFC 9068 §2.1: the `typ` of a JWT access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The claims of an SPL access token (public contract; RFC 9068 §2.2). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  /** Slug of the organisation the client belongs to. */
  spl_org: string;
  spl_roles: string[];
  /** Id of the named person behind a personal client; absent for applications. */
  spl_user?: string;
  scope?: string;
}

export interface SigningKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

export async function signAccessToken(
  signingKey: SigningKey,
  input: {
    issuer: string;
    audience: string;
    clientId: string;
    org: string;
    roles: string[];
    userId?: string;
    scope?: string;
    lifetimeSeconds: number;
    now?: number;
  },
): Promise<{ token: string; claims: AccessTokenClaims }> {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.clientId,
    client_id: input.clientId,
    aud: input.audience,
    iat,
    exp: iat + input.lifetimeSeconds,
    jti: randomUUID(),
    spl_org: input.org,
    spl_roles: input.roles,
    ...(input.userId ? { spl_user: input.userId } : {}),
    ...(input.scope ? { scope: input.scope } : {}),
  };
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: ACCESS_TOKEN_TYPE })
    .sign(signingKey.key);
  return { token, claims };
}
