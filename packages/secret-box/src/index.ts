import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of secrets at rest (BKS 60(2)(b), 59(8)): AES-256-GCM with a
 * 256-bit master key from SPL_MASTER_KEY. The stored form is `v1.<keyId>.<iv>.<tag>.<ct>`
 * (base64url), so a future key rotation can tell which key sealed a value. `keyId` is a
 * short fingerprint of the key, never the key.
 */
export interface SecretBox {
  readonly keyId: string;
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
  /**
   * A key derived from the master key with HKDF-SHA256 (salt `spl`, `info` naming the use),
   * so every process holding SPL_MASTER_KEY derives the same key with nothing stored.
   */
  deriveKey(info: string, length?: number): Buffer;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** Parses SPL_MASTER_KEY: 32 bytes as base64/base64url (44/43 chars) or hex (64 chars). */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new SecretBoxError('master key must be 32 bytes, as 64 hex or base64 characters');
  return key;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url');
}

export function createSecretBox(masterKey: Buffer): SecretBox {
  if (masterKey.length !== 32) throw new SecretBoxError('master key must be 32 bytes');
  const keyId = createHash('sha256').update(masterKey).digest('base64url').slice(0, 8);
  return {
    keyId,
    seal(plaintext, context = '') {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      // The context (e.g. the row a secret belongs to) is bound as associated data, so a
      // sealed value copied onto another row does not open there.
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        'v1',
        keyId,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ct.toString('base64url'),
      ].join('.');
    },
    open(sealed, context = '') {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new SecretBoxError('not a sealed secret');
      if (parts[1] !== keyId) throw new SecretBoxError(`sealed with another master key (${parts[1]})`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(parts[2]!, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(parts[4]!, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch (cause) {
        throw new SecretBoxError('sealed secret failed authentication', { cause });
      }
    },
    deriveKey(info, length = 32) {
      return Buffer.from(hkdfSync('sha256', masterKey, 'spl', info, length));
    },
  };
}
