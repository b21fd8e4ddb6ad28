import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEvidenceChain,
  EMPTY_DIGEST,
  EVIDENCE_FORMAT,
  encodePublicKey,
  segmentFileName,
  URL_DIGEST_KEY_INFO,
} from '@spl/evidence-log';
import { createSecretBox, parseMasterKey } from '@spl/secret-box';
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

describe('spl evidence url-digest', () => {
  const masterKey = Buffer.alloc(32, 5).toString('base64');
  const path = '/disdukcapil/kependudukan/v1/penduduk/3299010101850001';
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
  };

  it('prints the keyed digest the gateway records for a path, from the master key', async () => {
    const { io, out } = capture();
    expect(await runCli(['evidence', 'url-digest', path], { io, env: { SPL_MASTER_KEY: masterKey } })).toBe(
      0,
    );
    const key = createSecretBox(parseMasterKey(masterKey)).deriveKey(URL_DIGEST_KEY_INFO);
    expect(out).toEqual([createHmac('sha256', key).update(path).digest('hex')]);
    expect(out[0]).not.toBe(createHash('sha256').update(path).digest('hex'));
  });

  it('says what is missing without a master key, and refuses a path without a leading slash', async () => {
    const a = capture();
    expect(await runCli(['evidence', 'url-digest', path], { io: a.io, env: {} })).toBe(1);
    expect(a.err.join('\n')).toMatch(/SPL_MASTER_KEY/);
    const b = capture();
    expect(await runCli(['evidence', 'url-digest', 'no-slash'], { io: b.io, env: {} })).toBe(1);
    const c = capture();
    expect(await runCli(['evidence', 'url-digest', path, '--sha256'], { io: c.io, env: {} })).toBe(0);
    expect(c.out).toEqual([createHash('sha256').update(path).digest('hex')]);
  });
});
