import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * Client secrets are stored only as scrypt hashes (BKS 59(4)(e)): `scrypt$N$r$p$salt$hash`.
 * N = 2^15, r = 8 (32 MiB, ≈ 60 ms here) makes guessing costly; the parameters live in
 * the hash so they can be raised later without invalidating stored secrets.
 */
const DEFAULT = { N: 2 ** 15, r: 8, p: 1 };

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, 32, { ...DEFAULT, maxmem: 128 * DEFAULT.N * DEFAULT.r * 2 });
  return [
    'scrypt',
    DEFAULT.N,
    DEFAULT.r,
    DEFAULT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const N = Number(n);
  const R = Number(r);
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N,
    r: R,
    p: Number(p),
    maxmem: 128 * N * R * 2,
  });
  return timingSafeEqual(actual, expected);
}

/** A new client secret: 256 random bits, shown once. */
export function generateClientSecret(): string {
  return `spl_sk_${randomBytes(32).toString('base64url')}`;
}
