import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URL_DIGEST_KEY_INFO, verifyEvidenceDir } from '@spl/evidence-log';
import { createSecretBox } from '@spl/secret-box';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvidenceLog, installEvidence } from '../../src/evidence/index.js';
import { HubFixture, MASTER_KEY } from '../helpers/hub-fixture.js';
import { FakeRegistry, TestUpstream } from '../helpers/servers.js';
import { buildTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * Issue 3 §10: the evidence record holds the SHA-256 of the response body even when the
 * answer is too large to buffer and is streamed through (here 1 MiB, over the 64 KiB default),
 * and of answers of unknown length (chunked).
 */
describe('evidence of streamed answers', () => {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  let upstream: TestUpstream;
  let registry: FakeRegistry;
  let gw: TestGateway;
  let evidenceRoot: string;
  let log: ReturnType<typeof createEvidenceLog>;
  let token: string;
  // As server.ts does with SPL_MASTER_KEY: the URL digest is keyed, so a NIK in a path
  // cannot be recovered by hashing candidates.
  const urlDigestKey = createSecretBox(MASTER_KEY).deriveKey(URL_DIGEST_KEY_INFO);

  beforeAll(async () => {
    upstream = await new TestUpstream().start();
    upstream.handler = (req, res) => {
      if (req.url.endsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        setTimeout(() => res.end('part two'), 10);
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(big.length),
      });
      res.end(big);
    };
    const hub = await HubFixture.create();
    hub.route({ api: 'arsip', version: 'v1', urls: [upstream.url], methods: ['GET'] });
    hub.openapi = {
      h1: {
        openapi: '3.1.0',
        info: { title: 'Arsip', version: 'v1' },
        paths: {
          '/file': { get: { responses: { '200': { description: 'ok' } } } },
          '/chunked': { get: { responses: { '200': { description: 'ok' } } } },
        },
      },
    };
    hub.subscribe('app-portal', 'arsip', 'v1');
    registry = await new FakeRegistry().start();
    registry.snapshot = hub.snapshot();
    evidenceRoot = await mkdtemp(join(tmpdir(), 'spl-evidence-stream-'));
    log = createEvidenceLog({ dir: evidenceRoot, instanceId: 'gw-stream-test', flushMs: 1 });
    gw = await buildTestGateway({
      registryUrl: registry.url,
      deps: { extend: (app) => installEvidence(app, log, { urlDigestKey }) },
    });
    token = await hub.token();
  });

  afterAll(async () => {
    await gw?.close();
    await log?.close();
    await upstream?.stop();
    await registry?.stop();
    await rm(evidenceRoot, { recursive: true, force: true });
  });

  it('digests a streamed answer and a chunked one as they pass, and the chain verifies', async () => {
    const base = await gw.listen();
    const file = await fetch(`${base}/dinkes/arsip/v1/file`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const got = Buffer.from(await file.arrayBuffer());
    expect(got.equals(big)).toBe(true);
    const chunked = await fetch(`${base}/dinkes/arsip/v1/chunked`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await chunked.text()).toBe('part one, part two');
    await new Promise((r) => setTimeout(r, 50));
    await log.flush();

    const dir = join(evidenceRoot, 'gw-stream-test');
    const lines = (await readdir(dir)).filter((f) => f.startsWith('segment-'));
    const records = (await Promise.all(lines.map((f) => readFile(join(dir, f), 'utf8'))))
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'record');
    const hmac = (url: string) => createHmac('sha256', urlDigestKey).update(url).digest('hex');
    expect(records.map((r) => r.urlDigest)).toEqual([
      hmac('/dinkes/arsip/v1/file'),
      hmac('/dinkes/arsip/v1/chunked'),
    ]);
    expect(records[0].urlDigest).not.toBe(sha256('/dinkes/arsip/v1/file'));
    expect(records.map((r) => [r.status, r.responseDigest, r.responseDigestReason])).toEqual([
      [200, sha256(big), undefined],
      [200, sha256('part one, part two'), undefined],
    ]);
    await log.close();
    expect(verifyEvidenceDir(evidenceRoot).every((c) => c.ok)).toBe(true);
  });
});
