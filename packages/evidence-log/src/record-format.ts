/**
 * The evidence log's on-disk format (issue 3 §10, BKS 60(2)(d); X-Road's message log in
 * spirit). One chain per gateway process, written as JSON Lines segments:
 *
 *   <root>/<instanceId>/key.json              the instance's Ed25519 public key
 *   <root>/<instanceId>/segment-000001.jsonl  header, then records and checkpoints
 *
 * A record holds digests and route coordinates only: never a body, a token, or a raw path
 * (a path may carry a NIK), only the SHA-256 of path+query.
 */
export const EVIDENCE_FORMAT = 'spl-evidence/1';

/** SHA-256 of zero bytes: the request digest of a request without a body. */
export const EMPTY_DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the gateway hands over per answered request; the chain adds seq, at and the links. */
export interface EvidenceEntry {
  requestId: string;
  /** The route template is `/{org}/{api}/{version}/…`; null when no route matched. */
  org: string | null;
  api: string | null;
  version: string | null;
  /** The calling application's id (or federated client id); null when unauthenticated. */
  application: string | null;
  method: string;
  status: number;
  /**
   * Digest (hex) of the full path and query as received — the path itself may hold personal
   * data: HMAC-SHA256 under a key derived from SPL_MASTER_KEY when the hub has one (see
   * KeyFile.urlDigest), else SHA-256.
   */
  urlDigest: string;
  /** SHA-256 (hex) of the request body bytes (EMPTY_DIGEST without a body). */
  requestDigest: string;
  /** SHA-256 (hex) of the response body bytes, or null when it was streamed undigested. */
  responseDigest: string | null;
  /** Why `responseDigest` is null (`streamed`). */
  responseDigestReason?: string;
}

export interface EvidenceRecord extends EvidenceEntry {
  type: 'record';
  /** 1, 2, 3 … within the instance's chain, across segments. */
  seq: number;
  /** ISO 8601 time the record was sealed. */
  at: string;
  prevHash: string;
  /** linkHash(prevHash, the record without type, prevHash and hash). */
  hash: string;
}

/** First line of every segment. The header is not a link; the verifier checks it against the chain. */
export interface SegmentHeader {
  type: 'segment';
  format: typeof EVIDENCE_FORMAT;
  instanceId: string;
  /** 1, 2, 3 … */
  segment: number;
  alg: 'Ed25519';
  /** The instance's public key, base64 SPKI DER (the same in every segment and in key.json). */
  publicKey: string;
  /** The seq of the segment's first record. */
  firstSeq: number;
  /** The chain head when the segment was opened (GENESIS_HASH for the first). */
  prevHash: string;
  openedAt: string;
}

/** A signed statement: the chain of `instanceId` held `count` records ending in `head`. */
export interface Checkpoint {
  type: 'checkpoint';
  instanceId: string;
  /** The seq of the last record covered. */
  seq: number;
  /** Records in the chain from its start. */
  count: number;
  head: string;
  at: string;
  /** Ed25519 over canonicalJson(checkpointPayload(...)), base64. */
  signature: string;
}

export interface KeyFile {
  format: typeof EVIDENCE_FORMAT;
  instanceId: string;
  alg: 'Ed25519';
  publicKey: string;
  createdAt: string;
  /**
   * How `urlDigest` is made: `sha256`, or `hmac-sha256` under a key derived from the hub's
   * SPL_MASTER_KEY (HKDF info URL_DIGEST_KEY_INFO), so a NIK in a path cannot be found by
   * hashing every possible NIK; an auditor with the master key checks a given URL with
   * `spl evidence url-digest`. Absent in older logs: `sha256`.
   */
  urlDigest?: 'sha256' | 'hmac-sha256';
}

/** HKDF info of the key that makes `urlDigest` an HMAC (derived from SPL_MASTER_KEY). */
export const URL_DIGEST_KEY_INFO = 'spl evidence url digest v1';

export type EvidenceLine = SegmentHeader | EvidenceRecord | Checkpoint;

/** segment-000001.jsonl: zero-padded so a directory listing sorts in chain order. */
export function segmentFileName(segment: number): string {
  return `segment-${String(segment).padStart(6, '0')}.jsonl`;
}

export const SEGMENT_FILE_PATTERN = /^segment-(\d+)\.jsonl$/;
export const KEY_FILE_NAME = 'key.json';
