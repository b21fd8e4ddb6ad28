import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

export type PublicJwk = JWK & { kid: string; alg: string; use: 'sig' };

export interface GeneratedKey {
  kid: string;
  alg: 'ES256';
  publicJwk: PublicJwk;
  /** The private JWK as JSON text: seal it before storing (never log it). */
  privateJwkJson: string;
}

/** A fresh ES256 key pair; the kid is its RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const priv = await exportJWK(privateKey);
  return {
    kid,
    alg: 'ES256',
    publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' },
    privateJwkJson: JSON.stringify({ ...priv, kid, alg: 'ES256' }),
  };
}

export async function importSigningKey(
  privateJwkJson: string,
): Promise<{ kid: string; alg: string; key: CryptoKey }> {
  const jwk = JSON.parse(privateJwkJson) as JWK & { kid: string; alg: string };
  const key = (await importJWK(jwk, jwk.alg)) as CryptoKey;
  return { kid: jwk.kid, alg: jwk.alg, key };
}
