import { createPrivateKey, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK, SignJWT } from 'jose';
import type { PublicJwk } from './signing-key.js';

/** HKDF `info` of the backend identity key, derived from SPL_MASTER_KEY (SecretBox.deriveKey). */
export const BACKEND_IDENTITY_INFO = 'spl-backend-identity-v1';
/** The `typ` of the identity JWT the gateway sends its upstreams (X-SPL-Identity). */
export const BACKEND_IDENTITY_TYPE = 'spl-identity+jwt';

export interface BackendIdentityKey {
  kid: string;
  alg: 'EdDSA';
  privateKey: KeyObject;
  /** Published in the registry's JWKS so upstreams can verify the identity JWT. */
  publicJwk: PublicJwk;
}

/** The claims of the identity JWT (public contract for upstreams; issue 3 §5). */
export interface BackendIdentityClaims {
  iss: string;
  /** The upstream: `org/api/version`. */
  aud: string;
  /** The calling application's id. */
  sub: string;
  /** Slug of the calling application's organisation. */
  spl_org: string;
  /** Slug of the calling application, when known. */
  spl_app?: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  /** The hub's request id, for correlating logs. */
  spl_request_id?: string;
}

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The Ed25519 key that signs identity JWTs to upstreams, from a 32-byte seed (HKDF of the
 * master key): every gateway instance and the registry derive the same key, nothing stored.
 */
export async function deriveBackendIdentityKey(seed: Buffer): Promise<BackendIdentityKey> {
  if (seed.length !== 32) throw new Error('backend identity seed must be 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg: 'EdDSA', privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

export async function signBackendIdentity(
  key: BackendIdentityKey,
  input: {
    issuer: string;
    /** The upstream: `org/api/version`. */
    audience: string;
    application: { id: string; org: string; slug?: string; clientId: string };
    requestId?: string;
    lifetimeSeconds?: number;
    now?: number;
  },
): Promise<{ token: string; claims: BackendIdentityClaims }> {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const { application } = input;
  const claims: BackendIdentityClaims = {
    iss: input.issuer,
    aud: input.audience,
    sub: application.id,
    spl_org: application.org,
    ...(application.slug ? { spl_app: application.slug } : {}),
    client_id: application.clientId,
    iat,
    exp: iat + (input.lifetimeSeconds ?? 60),
    jti: randomUUID(),
    ...(input.requestId ? { spl_request_id: input.requestId } : {}),
  };
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BACKEND_IDENTITY_TYPE })
    .sign(key.privateKey);
  return { token, claims };
}
