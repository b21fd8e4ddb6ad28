import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from '@spl/audit-chain';
import { type Checkpoint, EVIDENCE_FORMAT } from './record-format.js';

type CheckpointFields = Omit<Checkpoint, 'type' | 'signature'>;

/** The bytes a checkpoint's signature covers. */
export function checkpointPayload(fields: CheckpointFields): Buffer {
  return Buffer.from(
    canonicalJson({
      format: EVIDENCE_FORMAT,
      instanceId: fields.instanceId,
      seq: fields.seq,
      count: fields.count,
      head: fields.head,
      at: fields.at,
    }),
  );
}

export function signCheckpoint(fields: CheckpointFields, privateKey: KeyObject): Checkpoint {
  const signature = sign(null, checkpointPayload(fields), privateKey).toString('base64');
  return { type: 'checkpoint', ...fields, signature };
}

export function isCheckpointSignatureValid(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(
      null,
      checkpointPayload(checkpoint),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export function encodePublicKey(publicKey: KeyObject): string {
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

export function decodePublicKey(encoded: string): KeyObject {
  return createPublicKey({ key: Buffer.from(encoded, 'base64'), format: 'der', type: 'spki' });
}
