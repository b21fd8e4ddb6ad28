import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, linkHash } from '@spl/audit-chain';
import { signCheckpoint } from './checkpoint.js';
import type { Checkpoint, EvidenceEntry, EvidenceRecord } from './record-format.js';

/** The part of a record its hash covers: everything but `type`, `prevHash` and `hash`. */
export function hashedPart(record: EvidenceRecord): Omit<EvidenceRecord, 'type' | 'prevHash' | 'hash'> {
  const { type: _type, prevHash: _prev, hash: _hash, ...rest } = record;
  return rest;
}

export interface EvidenceChain {
  readonly instanceId: string;
  /** Seq of the last sealed record (0 before the first). */
  readonly seq: number;
  readonly head: string;
  /** Seals an entry as the next link; synchronous, a few microseconds. */
  seal(entry: EvidenceEntry, at: string): EvidenceRecord;
  /** A signed checkpoint over the current head and count. */
  checkpoint(at: string): Checkpoint;
}

/** One process's chain, in memory: the writer (the gateway) stores what it returns. */
export function createEvidenceChain(options: { instanceId: string; privateKey: KeyObject }): EvidenceChain {
  let seq = 0;
  let head = GENESIS_HASH;
  return {
    instanceId: options.instanceId,
    get seq() {
      return seq;
    },
    get head() {
      return head;
    },
    seal(entry, at) {
      seq++;
      const body = { ...entry, seq, at };
      const hash = linkHash(head, body);
      const record: EvidenceRecord = { type: 'record', ...body, prevHash: head, hash };
      head = hash;
      return record;
    },
    checkpoint(at) {
      return signCheckpoint(
        { instanceId: options.instanceId, seq, count: seq, head, at },
        options.privateKey,
      );
    },
  };
}
