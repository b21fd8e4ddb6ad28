import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH } from '@spl/audit-chain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEvidenceChain,
  EMPTY_DIGEST,
  EVIDENCE_FORMAT,
  type EvidenceEntry,
  encodePublicKey,
  segmentFileName,
  verifyEvidenceChain,
  verifyEvidenceDir,
} from '../src/index.js';

const entry = (i: number): EvidenceEntry => ({
  requestId: `req-${i}`,
  org: 'disdukcapil',
  api: 'penduduk',
  version: 'v1',
  application: 'app-1',
  method: 'GET',
  status: 200,
  urlDigest: EMPTY_DIGEST,
  requestDigest: EMPTY_DIGEST,
  responseDigest: EMPTY_DIGEST,
});

/** Writes `segments` segments of `perSegment` records, a checkpoint every 2 records and at each segment's end. */
function writeChain(dir: string, segments: number, perSegment: number, instanceId = 'gw-1') {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const chain = createEvidenceChain({ instanceId, privateKey });
  const key = encodePublicKey(publicKey);
  writeFileSync(
    join(dir, 'key.json'),
    JSON.stringify({ format: EVIDENCE_FORMAT, instanceId, alg: 'Ed25519', publicKey: key }),
  );
  for (let s = 1; s <= segments; s++) {
    const lines = [
      {
        type: 'segment',
        format: EVIDENCE_FORMAT,
        instanceId,
        segment: s,
        alg: 'Ed25519',
        publicKey: key,
        firstSeq: chain.seq + 1,
        prevHash: chain.head,
        openedAt: 'x',
      },
    ] as object[];
    for (let i = 1; i <= perSegment; i++) {
      lines.push(chain.seal(entry(chain.seq + 1), '2026-11-05T00:00:00.000Z'));
      if (i % 2 === 0 || i === perSegment) lines.push(chain.checkpoint('2026-11-05T00:00:01.000Z'));
    }
    writeFileSync(join(dir, segmentFileName(s)), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }
  return chain;
}

describe('verifying evidence segments', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spl-evidence-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts an intact chain across segments and reports counts and head', () => {
    const chain = writeChain(dir, 3, 5);
    const verdict = verifyEvidenceChain(dir);
    expect(verdict).toMatchObject({ ok: true, segments: 3, records: 15, head: chain.head, unsealed: 0 });
    expect(verdict.checkpoints).toBe(9);
    expect(chain.head).not.toBe(GENESIS_HASH);
  });

  it('names a missing middle segment', () => {
    writeChain(dir, 3, 2);
    unlinkSync(join(dir, segmentFileName(2)));
    const verdict = verifyEvidenceChain(dir);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.broken).toMatchObject({ reason: 'missing-segment', seq: 3 });
  });

  it('names a header whose key differs from key.json', () => {
    writeChain(dir, 1, 2);
    const file = join(dir, segmentFileName(1));
    const other = encodePublicKey(generateKeyPairSync('ed25519').publicKey);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), publicKey: other });
    writeFileSync(file, lines.join('\n'));
    const verdict = verifyEvidenceChain(dir);
    expect(!verdict.ok && verdict.broken.reason).toBe('key-mismatch');
  });

  it('names a line cut short by a crash', () => {
    writeChain(dir, 1, 3);
    const file = join(dir, segmentFileName(1));
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length - 20));
    const verdict = verifyEvidenceChain(dir);
    expect(!verdict.ok && verdict.broken.reason).toBe('truncated-line');
  });

  it('finds every instance under the evidence root', () => {
    const root = dir;
    for (const id of ['gw-a', 'gw-b']) {
      const d = join(root, id);
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d);
      writeChain(d, 1, 2, id);
    }
    const verdicts = verifyEvidenceDir(root);
    expect(verdicts.map((v) => [v.instanceId, v.ok, v.records])).toEqual([
      ['gw-a', true, 2],
      ['gw-b', true, 2],
    ]);
  });
});
