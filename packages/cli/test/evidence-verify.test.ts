import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEvidenceChain,
  EMPTY_DIGEST,
  EVIDENCE_FORMAT,
  encodePublicKey,
  segmentFileName,
} from '@spl/evidence-log';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';

function writeChain(dir: string, records: number) {
  const instanceId = 'gw-1';
  mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const key = encodePublicKey(publicKey);
  const chain = createEvidenceChain({ instanceId, privateKey });
  const lines: object[] = [
    {
      type: 'segment',
      format: EVIDENCE_FORMAT,
      instanceId,
      segment: 1,
      alg: 'Ed25519',
      publicKey: key,
      firstSeq: 1,
      prevHash: chain.head,
      openedAt: 'x',
    },
  ];
  for (let i = 1; i <= records; i++) {
    lines.push(
      chain.seal(
        {
          requestId: `r${i}`,
          org: 'o',
          api: 'a',
          version: 'v1',
          application: null,
          method: 'GET',
          status: 200,
          urlDigest: EMPTY_DIGEST,
          requestDigest: EMPTY_DIGEST,
          responseDigest: EMPTY_DIGEST,
        },
        '2026-11-05T00:00:00.000Z',
      ),
    );
    if (i % 3 === 0) lines.push(chain.checkpoint('2026-11-05T00:00:00.000Z'));
  }
  const file = join(dir, segmentFileName(1));
  writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return { file, head: chain.head };
}

describe('spl evidence verify', () => {
  let root: string;
  let out: string[];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'spl-cli-evidence-'));
    out = [];
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('prints counts and head of an intact chain, exit 0', async () => {
    const { head } = writeChain(join(root, 'gw-1'), 7);
    expect(await runCli(['evidence', 'verify', root], { io, env: {} })).toBe(0);
    expect(out.join('\n')).toContain(
      `evidence chain gw-1 intact: 7 records, 2 checkpoints, 1 segments, head ${head}`,
    );
    expect(out.join('\n')).toContain('1 records after the last checkpoint');
  });

  it('names the file and seq of an edited record, exit 1', async () => {
    const { file } = writeChain(join(root, 'gw-1'), 7);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"requestId":"r5"', '"requestId":"r5x"'));
    expect(await runCli(['evidence', 'verify', join(root, 'gw-1')], { io, env: {} })).toBe(1);
    expect(out.join('\n')).toContain(`BROKEN at ${file}:7 seq 5: hash-mismatch`);
    expect(out.join('\n')).toContain(`spl: evidence chain broken at ${file} seq 5`);
  });

  it('exits 1 on a directory without segments', async () => {
    expect(await runCli(['evidence', 'verify', join(root, 'nope')], { io, env: {} })).toBe(1);
  });
});
