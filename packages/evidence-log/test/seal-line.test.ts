import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson, GENESIS_HASH, linkHash } from '@spl/audit-chain';
import { describe, expect, it } from 'vitest';
import { canonicalRecordBody } from '../src/evidence-chain.js';
import { createEvidenceChain, EMPTY_DIGEST, type EvidenceEntry, hashedPart } from '../src/index.js';

const { privateKey } = generateKeyPairSync('ed25519');

const entries: EvidenceEntry[] = [
  {
    requestId: '0b7d6c1e-1f0a-4f55-9b53-3f2b0f6f1c2d',
    org: 'disdukcapil',
    api: 'penduduk',
    version: 'v1',
    application: 'app-1',
    method: 'POST',
    status: 201,
    urlDigest: 'a'.repeat(64),
    requestDigest: EMPTY_DIGEST,
    responseDigest: 'b'.repeat(64),
  },
  {
    requestId: 'req "quoted" \\ back\u2028slash',
    org: null,
    api: null,
    version: null,
    application: null,
    method: 'GET',
    status: 404,
    urlDigest: EMPTY_DIGEST,
    requestDigest: EMPTY_DIGEST,
    responseDigest: null,
    responseDigestReason: 'streamed',
  },
  {
    requestId: 'ünïcødé-€-😀-\u0001',
    org: 'dinas-é',
    api: 'x',
    version: 'v2',
    application: 'client-\u00e9',
    method: 'DELETE',
    status: 503,
    urlDigest: EMPTY_DIGEST,
    requestDigest: EMPTY_DIGEST,
    responseDigest: null,
    responseDigestReason: 'not-sent',
  },
];

describe('evidence records sealed on the hot path', () => {
  it('writes exactly the RFC 8785 canonical JSON the verifier recomputes', () => {
    for (const [i, e] of entries.entries())
      expect(canonicalRecordBody(e, i + 1, '2026-11-26T01:02:03.456Z')).toBe(
        canonicalJson({ ...e, seq: i + 1, at: '2026-11-26T01:02:03.456Z' }),
      );
  });

  it('gives the same chain as seal(), line by line', () => {
    const fast = createEvidenceChain({ instanceId: 'gw', privateKey });
    const slow = createEvidenceChain({ instanceId: 'gw', privateKey });
    let prev = GENESIS_HASH;
    for (const e of entries) {
      const line = fast.sealLine(e, '2026-11-26T01:02:03.456Z');
      expect(line.endsWith('\n')).toBe(true);
      const parsed = JSON.parse(line);
      expect(parsed).toEqual(slow.seal(e, '2026-11-26T01:02:03.456Z'));
      expect(parsed.prevHash).toBe(prev);
      expect(linkHash(prev, hashedPart(parsed))).toBe(parsed.hash);
      prev = parsed.hash;
    }
    expect(fast.head).toBe(slow.head);
    expect(fast.seq).toBe(3);
  });

  it('falls back to the generic path for a status that is not an integer', () => {
    const chain = createEvidenceChain({ instanceId: 'gw', privateKey });
    const odd = { ...entries[0]!, status: 200.5 };
    const parsed = JSON.parse(chain.sealLine(odd, '2026-11-26T01:02:03.456Z'));
    expect(parsed.seq).toBe(1);
    expect(linkHash(GENESIS_HASH, hashedPart(parsed))).toBe(parsed.hash);
  });
});
