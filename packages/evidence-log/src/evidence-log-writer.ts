import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePublicKey } from './checkpoint.js';
import { createEvidenceChain } from './evidence-chain.js';
import {
  EVIDENCE_FORMAT,
  type EvidenceEntry,
  KEY_FILE_NAME,
  type KeyFile,
  type SegmentHeader,
  segmentFileName,
} from './record-format.js';

/**
 * A data plane's evidence log (issue 3 §10; the broker's events, issue 4 §6): one hash chain per process, appended to
 * `<dir>/<instanceId>/segment-NNNNNN.jsonl`. `record()` is synchronous and cheap — it seals
 * the link and appends a line to memory; a timer writes the lines in batches, and every
 * checkpoint (each `checkpointEvery` records or `checkpointSeconds`) is fsynced. Segments
 * rotate by size or age and each rotated segment ends with a checkpoint.
 *
 * The instance's Ed25519 key pair is made here and the private key never leaves memory; its
 * public key is in `key.json` and each segment's header. Binding that key to the hub (the
 * registry vouching for it, as X-Road's central server does for its members) is future work:
 * until then, whoever can rewrite the whole directory can also re-sign it.
 */
export interface EvidenceLogOptions {
  /** The evidence root, e.g. `<SPL_DATA_DIR>/gateway/evidence` or `<SPL_DATA_DIR>/broker/evidence`. */
  dir: string;
  /** Unique per process start (see `createInstanceId`): the directory must not exist yet. */
  instanceId: string;
  checkpointEvery?: number;
  checkpointSeconds?: number;
  /** Rotate when a segment would grow past this (default 64 MiB). */
  maxSegmentBytes?: number;
  /** Rotate a segment older than this (default 3600 s). */
  segmentSeconds?: number;
  /** Batch window before lines are written (default 20 ms). */
  flushMs?: number;
  /** A failed write; the lines are kept and retried on the next flush. */
  onError?: (err: Error) => void;
  now?: () => Date;
  /** How the writer's `urlDigest`s are made, stated in key.json (default `sha256`). */
  urlDigest?: 'sha256' | 'hmac-sha256';
}

export interface EvidenceLog {
  readonly instanceId: string;
  /** The instance directory. */
  readonly dir: string;
  /** Base64 SPKI DER of the instance's Ed25519 public key. */
  readonly publicKey: string;
  record(entry: EvidenceEntry): void;
  /** Writes every line recorded so far. */
  flush(): Promise<void>;
  /** Seals the tail with a checkpoint, writes it and closes the file; safe to call twice. */
  close(): Promise<void>;
}

/** `<host>-<pid>-<start time>`: unique per process start, readable in a directory listing. */
export function createInstanceId(hostname: string, pid = process.pid, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${hostname.replace(/[^A-Za-z0-9_.-]/g, '_')}-${pid}-${stamp}`;
}

interface Chunk {
  file: string;
  lines: string[];
  /** fsync after writing (it holds a checkpoint). */
  isSync: boolean;
}

export function createEvidenceLog(options: EvidenceLogOptions): EvidenceLog {
  // Records sealed in the same millisecond share one ISO string (toISOString ≈ 0.5 µs).
  let isoMs = -1;
  let isoText = '';
  const isoTime = (at: Date) => {
    const ms = at.getTime();
    if (ms !== isoMs) {
      isoMs = ms;
      isoText = at.toISOString();
    }
    return isoText;
  };
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const checkpointMs = (options.checkpointSeconds ?? 10) * 1000;
  const maxSegmentBytes = options.maxSegmentBytes ?? 64 * 1024 * 1024;
  const segmentMs = (options.segmentSeconds ?? 3600) * 1000;
  const flushMs = options.flushMs ?? 20;
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => {});

  const dir = join(options.dir, options.instanceId);
  mkdirSync(options.dir, { recursive: true });
  mkdirSync(dir); // throws when it exists: one chain per process start
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyText = encodePublicKey(publicKey);
  const keyFile: KeyFile = {
    format: EVIDENCE_FORMAT,
    instanceId: options.instanceId,
    alg: 'Ed25519',
    publicKey: publicKeyText,
    createdAt: now().toISOString(),
    urlDigest: options.urlDigest ?? 'sha256',
  };
  writeFileSync(join(dir, KEY_FILE_NAME), `${JSON.stringify(keyFile, null, 2)}\n`, { flag: 'wx' });

  const chain = createEvidenceChain({ instanceId: options.instanceId, privateKey });
  let queue: Chunk[] = [];
  let segment = 0;
  let segmentFile = '';
  let segmentBytes = 0;
  let segmentOpenedMs = 0;
  let sinceCheckpoint = 0;
  let handle: { file: string; fh: FileHandle } | null = null;
  let writing: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  let isClosed = false;

  const push = (line: string, isSync = false) => {
    let chunk = queue.at(-1);
    if (!chunk || chunk.file !== segmentFile) {
      chunk = { file: segmentFile, lines: [], isSync: false };
      queue.push(chunk);
    }
    chunk.lines.push(line);
    if (isSync) chunk.isSync = true;
    segmentBytes += line.length;
  };

  const openSegment = (at: Date) => {
    segment++;
    segmentFile = join(dir, segmentFileName(segment));
    segmentBytes = 0;
    segmentOpenedMs = at.getTime();
    const header: SegmentHeader = {
      type: 'segment',
      format: EVIDENCE_FORMAT,
      instanceId: options.instanceId,
      segment,
      alg: 'Ed25519',
      publicKey: publicKeyText,
      firstSeq: chain.seq + 1,
      prevHash: chain.head,
      openedAt: at.toISOString(),
    };
    push(`${JSON.stringify(header)}\n`);
  };

  const scheduleFlush = (ms: number) => {
    if (flushTimer || isClosed) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      flush().catch(() => {}); // reported through onError
    }, ms);
    flushTimer.unref();
  };

  const writeCheckpoint = (at: Date) => {
    push(`${JSON.stringify(chain.checkpoint(at.toISOString()))}\n`, true);
    sinceCheckpoint = 0;
    scheduleFlush(0);
  };

  const drainOnce = async () => {
    const chunks = queue;
    queue = [];
    let i = 0;
    try {
      for (; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        if (handle?.file !== chunk.file) {
          if (handle) await handle.fh.close();
          handle = null;
          handle = { file: chunk.file, fh: await open(chunk.file, 'a') };
        }
        await handle.fh.appendFile(chunk.lines.join(''));
        if (chunk.isSync) await handle.fh.sync();
      }
    } catch (err) {
      queue = chunks.slice(i).concat(queue);
      onError(err as Error);
      throw err;
    }
  };

  async function flush(): Promise<void> {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    while (writing || queue.length > 0) {
      if (!writing)
        writing = drainOnce().finally(() => {
          writing = null;
        });
      await writing;
    }
  }

  openSegment(now());
  const checkpointTimer = setInterval(() => {
    if (sinceCheckpoint > 0) writeCheckpoint(now());
  }, checkpointMs);
  checkpointTimer.unref();

  return {
    instanceId: options.instanceId,
    dir,
    publicKey: publicKeyText,
    record(entry) {
      if (isClosed) return;
      const at = now();
      // A segment may pass the size by one line; the check stays before the seal so the
      // record opens the next segment whole.
      if (segmentBytes >= maxSegmentBytes || at.getTime() - segmentOpenedMs > segmentMs) {
        if (sinceCheckpoint > 0) writeCheckpoint(at);
        openSegment(at);
      }
      push(chain.sealLine(entry, isoTime(at)));
      if (++sinceCheckpoint >= checkpointEvery) writeCheckpoint(at);
      else scheduleFlush(flushMs);
    },
    flush,
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(checkpointTimer);
      if (sinceCheckpoint > 0) writeCheckpoint(now());
      try {
        await flush();
      } finally {
        const h = handle as { fh: FileHandle } | null;
        handle = null;
        await h?.fh.close().catch(() => {});
      }
    },
  };
}
