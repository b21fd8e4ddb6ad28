import type { KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GENESIS_HASH, linkHash } from '@spl/audit-chain';
import { decodePublicKey, isCheckpointSignatureValid } from './checkpoint.js';
import { hashedPart } from './evidence-chain.js';
import {
  type Checkpoint,
  EVIDENCE_FORMAT,
  type EvidenceRecord,
  KEY_FILE_NAME,
  type KeyFile,
  SEGMENT_FILE_PATTERN,
  type SegmentHeader,
} from './record-format.js';

export type BreakReason =
  | 'malformed-line'
  | 'truncated-line'
  | 'bad-header'
  | 'key-mismatch'
  | 'missing-segment'
  | 'segment-discontinuity'
  | 'segment-not-sealed'
  | 'seq-gap'
  | 'prev-hash-mismatch'
  | 'hash-mismatch'
  | 'checkpoint-mismatch'
  | 'checkpoint-signature'
  | 'no-segments';

/** Where a chain first stops holding: the file, its line (1-based) and the seq there (or expected there). */
export interface EvidenceBreak {
  file: string;
  line: number;
  seq: number | null;
  reason: BreakReason;
  detail: string;
}

export interface ChainSummary {
  instanceId: string;
  dir: string;
  segments: number;
  records: number;
  checkpoints: number;
  /** Hash of the last record (GENESIS_HASH when there is none). */
  head: string;
  /** Seq of the last record a valid checkpoint covers (0 when none). */
  sealedSeq: number;
  /** Records after the last checkpoint: intact links, but a cut-off tail there would go unnoticed. */
  unsealed: number;
}

export type ChainVerdict =
  | ({ ok: true } & ChainSummary)
  | ({ ok: false; broken: EvidenceBreak } & ChainSummary);

/** Verifies the segments of one instance directory in order. Reads each file whole (segments are bounded). */
export function verifyEvidenceChain(dir: string): ChainVerdict {
  const files = readdirSync(dir)
    .map((name) => ({ name, match: SEGMENT_FILE_PATTERN.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .map((f) => ({ name: f.name, segment: Number(f.match[1]) }))
    .sort((a, b) => a.segment - b.segment);

  const summary: ChainSummary = {
    instanceId: basename(dir),
    dir,
    segments: 0,
    records: 0,
    checkpoints: 0,
    head: GENESIS_HASH,
    sealedSeq: 0,
    unsealed: 0,
  };
  const fail = (broken: EvidenceBreak): ChainVerdict => {
    summary.unsealed = summary.records - summary.sealedSeq;
    return { ok: false, broken, ...summary };
  };

  let keyFromFile: string | null = null;
  const keyPath = join(dir, KEY_FILE_NAME);
  if (existsSync(keyPath)) {
    try {
      const key = JSON.parse(readFileSync(keyPath, 'utf8')) as KeyFile;
      keyFromFile = key.publicKey;
      summary.instanceId = key.instanceId;
    } catch {
      return fail({
        file: keyPath,
        line: 1,
        seq: null,
        reason: 'malformed-line',
        detail: 'key.json is not JSON',
      });
    }
  }
  if (files.length === 0)
    return fail({ file: dir, line: 0, seq: null, reason: 'no-segments', detail: 'no segment files' });

  let publicKeyText: string | null = keyFromFile;
  let publicKey: KeyObject | null = null;
  let head = GENESIS_HASH;
  let seq = 0;

  for (let i = 0; i < files.length; i++) {
    const { name, segment } = files[i]!;
    const file = join(dir, name);
    const isLast = i === files.length - 1;
    if (segment !== i + 1)
      return fail({
        file: join(dir, `segment-${String(i + 1).padStart(6, '0')}.jsonl`),
        line: 0,
        seq: seq + 1,
        reason: 'missing-segment',
        detail: `segment ${i + 1} is missing (next present is ${segment})`,
      });
    summary.segments++;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const endsWithNewline = text.endsWith('\n');
    if (endsWithNewline) lines.pop();
    let lastType: string | null = null;

    for (let n = 0; n < lines.length; n++) {
      const lineNo = n + 1;
      const at = (reason: BreakReason, detail: string, atSeq: number | null = seq + 1) =>
        fail({ file, line: lineNo, seq: atSeq, reason, detail });
      if (!endsWithNewline && n === lines.length - 1)
        return at('truncated-line', 'the last line is incomplete (no newline)');
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(lines[n]!) as Record<string, unknown>;
      } catch {
        return at('malformed-line', 'not a JSON line');
      }

      if (n === 0) {
        const header = line as unknown as SegmentHeader;
        if (header.type !== 'segment' || header.format !== EVIDENCE_FORMAT || header.segment !== segment)
          return at('bad-header', 'the first line is not this segment’s header', null);
        if (publicKeyText === null) publicKeyText = header.publicKey;
        if (header.publicKey !== publicKeyText)
          return at('key-mismatch', 'the public key differs from key.json or the first segment', null);
        if (header.firstSeq !== seq + 1 || header.prevHash !== head)
          return at(
            'segment-discontinuity',
            `the segment starts at seq ${header.firstSeq} after ${header.prevHash.slice(0, 12)}…, the chain is at seq ${seq} ${head.slice(0, 12)}…`,
          );
        if (publicKey === null) {
          try {
            publicKey = decodePublicKey(publicKeyText);
          } catch {
            return at('bad-header', 'the public key cannot be read', null);
          }
        }
        lastType = 'segment';
        continue;
      }

      if (line.type === 'record') {
        const record = line as unknown as EvidenceRecord;
        if (record.seq !== seq + 1)
          return at('seq-gap', `expected seq ${seq + 1}, found ${String(record.seq)}`, record.seq ?? null);
        if (record.prevHash !== head)
          return at('prev-hash-mismatch', 'prevHash is not the previous record’s hash', record.seq);
        if (linkHash(head, hashedPart(record)) !== record.hash)
          return at('hash-mismatch', 'the record does not match its hash (edited)', record.seq);
        head = record.hash;
        seq = record.seq;
        summary.records++;
        summary.head = head;
      } else if (line.type === 'checkpoint') {
        const checkpoint = line as unknown as Checkpoint;
        if (checkpoint.seq !== seq || checkpoint.count !== seq || checkpoint.head !== head)
          return at(
            'checkpoint-mismatch',
            `checkpoint says ${String(checkpoint.count)} records (seq ${String(checkpoint.seq)}), the chain has ${seq}, or its head differs`,
            checkpoint.seq ?? null,
          );
        if (
          !isCheckpointSignatureValid(checkpoint, publicKey!) ||
          checkpoint.instanceId !== summary.instanceId
        )
          return at('checkpoint-signature', 'the checkpoint signature does not verify', checkpoint.seq);
        summary.checkpoints++;
        summary.sealedSeq = seq;
      } else {
        return at('malformed-line', `unknown line type ${JSON.stringify(line.type)}`);
      }
      lastType = line.type;
    }
    if (lines.length === 0)
      return fail({ file, line: 1, seq: null, reason: 'bad-header', detail: 'the segment is empty' });
    if (!isLast && lastType !== 'checkpoint')
      return fail({
        file,
        line: lines.length,
        seq,
        reason: 'segment-not-sealed',
        detail: 'a rotated segment must end with a checkpoint (its tail was cut)',
      });
  }
  summary.unsealed = summary.records - summary.sealedSeq;
  return { ok: true, ...summary };
}

/**
 * Verifies an evidence directory: either one instance's directory (it holds segment files)
 * or the evidence root (each subdirectory holding segments is one chain).
 */
export function verifyEvidenceDir(dir: string): ChainVerdict[] {
  const names = readdirSync(dir);
  if (names.some((n) => SEGMENT_FILE_PATTERN.test(n))) return [verifyEvidenceChain(dir)];
  const chains = names
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .filter((p) => readdirSync(p).some((n) => SEGMENT_FILE_PATTERN.test(n) || n === KEY_FILE_NAME))
    .sort();
  return chains.map(verifyEvidenceChain);
}
