import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS with ESM-style typings: at runtime the default import is the
// function itself, which NodeNext typing does not see.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * A tamper-evident hash chain (BKS 59(9)(d), 30(5)(f); MUE 26(2)(b)). Each record's hash
 * covers the previous hash and the RFC 8785 canonical JSON of the record, so editing,
 * deleting or reordering any record breaks every link after it.
 *
 *   GENESIS ──► h1 = H(GENESIS ‖ c(r1)) ──► h2 = H(h1 ‖ c(r2)) ──► …
 */
export const GENESIS_HASH = '0'.repeat(64);

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalised');
  return text;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function linkHash(prevHash: string, record: unknown): string {
  return sha256Hex(`${prevHash}\n${canonicalJson(record)}`);
}

export interface ChainLink<R> {
  seq: number;
  record: R;
  prevHash: string;
  hash: string;
}

export type ChainVerdict =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; brokenAt: number; reason: 'prev-hash-mismatch' | 'hash-mismatch' };

/**
 * Walks links in order and names the first one that does not hold. Links may be fed
 * in pages: pass the previous page's `head` as `startHash`.
 */
export function verifyChain<R>(links: Iterable<ChainLink<R>>, startHash = GENESIS_HASH): ChainVerdict {
  let expectedPrev = startHash;
  let count = 0;
  for (const link of links) {
    if (link.prevHash !== expectedPrev)
      return { ok: false, count, brokenAt: link.seq, reason: 'prev-hash-mismatch' };
    if (linkHash(link.prevHash, link.record) !== link.hash)
      return { ok: false, count, brokenAt: link.seq, reason: 'hash-mismatch' };
    expectedPrev = link.hash;
    count++;
  }
  return { ok: true, count, head: expectedPrev };
}
