/**
 * What the evidence log costs the gateway per request (issue 3 §10; the hot-path note
 * measured "two SHA-256 + chain link" at ≈ 4.6 µs). In-process, one thread: the synchronous
 * part a request pays in its hooks (three digests + seal + line), then `record()` with the
 * batched writes to a real segment file included (checkpoint every 1000 records, fsynced).
 *
 *   pnpm exec tsx bench/gateway-evidence.ts
 */
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EMPTY_DIGEST, type EvidenceEntry } from '../packages/evidence-log/src/index.js';
import { createEvidenceLog } from '../services/gateway/src/evidence/index.js';

const ITERATIONS = 200_000;
const ROUNDS = 3;
const requestBody = Buffer.from(
  JSON.stringify({ nik: '3201234567890001', nama: 'Siti Aminah', x: 'y'.repeat(150) }),
); // ≈ 200 B
const responseBody = Buffer.alloc(1024, 'a');
const url = '/disdukcapil/penduduk/v1/warga/3201234567890001?fields=nama';
const sha256 = (d: Buffer | string) => hash('sha256', d, 'hex'); // as install-evidence.ts

const entryFor = (i: number): EvidenceEntry => ({
  requestId: `0f8c2d4e-1a2b-4c3d-8e9f-${String(i).padStart(12, '0')}`,
  org: 'disdukcapil',
  api: 'penduduk',
  version: 'v1',
  application: '6a1f3c52-8d2e-4b7a-9c1d-2e3f4a5b6c7d',
  method: 'POST',
  status: 200,
  urlDigest: sha256(url),
  requestDigest: sha256(requestBody),
  responseDigest: sha256(responseBody),
});

function best(name: string, run: (i: number) => void, after?: () => Promise<void>) {
  return async () => {
    let bestUs = Number.POSITIVE_INFINITY;
    let bestSync = Number.POSITIVE_INFINITY;
    for (let r = 0; r < ROUNDS; r++) {
      const start = performance.now();
      let syncMs = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const t0 = performance.now();
        run(i);
        syncMs += performance.now() - t0;
        // The gateway's 20 ms batch window at a few thousand req/s: write every 500 records.
        if (after && i % 500 === 499) await after();
      }
      if (after) await after();
      bestUs = Math.min(bestUs, ((performance.now() - start) * 1000) / ITERATIONS);
      bestSync = Math.min(bestSync, (syncMs * 1000) / ITERATIONS);
    }
    // wall: including awaiting the writes; on the request path: the synchronous part only.
    console.log(
      `${name.padEnd(62)} wall ${bestUs.toFixed(2).padStart(6)} µs, on the request path ${bestSync.toFixed(2)} µs`,
    );
  };
}

const root = mkdtempSync(join(tmpdir(), 'spl-bench-evidence-'));
try {
  await best('three SHA-256 (url, 200 B request, 1 KiB response)', (i) => entryFor(i))();
  let n = 0;
  const log = createEvidenceLog({
    dir: root,
    instanceId: 'bench',
    checkpointEvery: 1000,
    checkpointSeconds: 3600,
  });
  const fixed = entryFor(0);
  await best(
    'record() only: seal + line into the buffer, batched writes',
    (i) => {
      log.record({ ...fixed, requestId: String(i) });
      n++;
    },
    () => log.flush(),
  )();
  await log.flush();
  const log2 = createEvidenceLog({
    dir: root,
    instanceId: 'bench-2',
    checkpointEvery: 1000,
    checkpointSeconds: 3600,
  });
  await best(
    'digests + record() + batched writes + fsynced checkpoints',
    (i) => log2.record(entryFor(i)),
    () => log2.flush(),
  )();
  await log.close();
  await log2.close();
  console.log(`(${n} records in the first log; EMPTY_DIGEST ${EMPTY_DIGEST.slice(0, 8)}…)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
