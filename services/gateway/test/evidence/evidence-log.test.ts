import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EMPTY_DIGEST, type EvidenceEntry, verifyEvidenceChain } from '@spl/evidence-log';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEvidenceLog, installEvidence } from '../../src/evidence/index.js';
import type { GatewayRequestContext } from '../../src/pipeline.js';

const NIK = '3201234567890001';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwb3J0YWwtd2FyZ2EifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

const entry = (i: number): EvidenceEntry => ({
  requestId: `req-${i}`,
  org: 'disdukcapil',
  api: 'penduduk',
  version: 'v1',
  application: 'app-1',
  method: 'POST',
  status: 200,
  urlDigest: EMPTY_DIGEST,
  requestDigest: EMPTY_DIGEST,
  responseDigest: EMPTY_DIGEST,
});

const readLines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');
const writeLines = (file: string, lines: string[]) => writeFileSync(file, `${lines.join('\n')}\n`);

describe('the gateway evidence log', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'spl-evidence-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes records, signed checkpoints and rotated segments that verify', async () => {
    const log = createEvidenceLog({
      dir: root,
      instanceId: 'gw-1',
      checkpointEvery: 4,
      maxSegmentBytes: 2048,
    });
    for (let i = 1; i <= 25; i++) log.record(entry(i));
    await log.close();
    await log.close(); // twice is fine

    const files = readdirSync(log.dir).sort();
    expect(files[0]).toBe('key.json');
    expect(files.length).toBeGreaterThan(3); // rotated by size
    const key = JSON.parse(readFileSync(join(log.dir, 'key.json'), 'utf8'));
    expect(JSON.parse(readLines(join(log.dir, files[1]!))[0]!)).toMatchObject({
      type: 'segment',
      segment: 1,
      publicKey: key.publicKey,
      firstSeq: 1,
    });
    const verdict = verifyEvidenceChain(log.dir);
    expect(verdict).toMatchObject({ ok: true, records: 25, unsealed: 0, instanceId: 'gw-1' });
    expect(verdict.checkpoints).toBeGreaterThanOrEqual(7);
  });

  it('checkpoints on a timer and flushes in batches', async () => {
    const log = createEvidenceLog({
      dir: root,
      instanceId: 'gw-t',
      checkpointEvery: 1000,
      checkpointSeconds: 0.05,
    });
    log.record(entry(1));
    log.record(entry(2));
    await new Promise((r) => setTimeout(r, 150));
    await log.flush();
    const lines = readLines(join(log.dir, 'segment-000001.jsonl')).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['segment', 'record', 'record', 'checkpoint']);
    expect(lines[3]).toMatchObject({ seq: 2, count: 2, head: lines[2].hash });
    await log.close();
  });

  it('refuses to reuse an instance directory (one chain per process start)', () => {
    createEvidenceLog({ dir: root, instanceId: 'gw-dup' });
    expect(() => createEvidenceLog({ dir: root, instanceId: 'gw-dup' })).toThrow(/EEXIST/);
  });

  describe('names the first broken record', () => {
    async function written() {
      const log = createEvidenceLog({ dir: root, instanceId: 'gw-x', checkpointEvery: 5 });
      for (let i = 1; i <= 12; i++) log.record(entry(i));
      await log.close();
      return join(log.dir, 'segment-000001.jsonl');
    }
    const lineOfSeq = (lines: string[], seq: number) =>
      lines.findIndex((l) => JSON.parse(l).type === 'record' && JSON.parse(l).seq === seq);

    it('an edited record', async () => {
      const file = await written();
      const lines = readLines(file);
      const i = lineOfSeq(lines, 7);
      lines[i] = lines[i]!.replace('"status":200', '"status":404');
      writeLines(file, lines);
      const v = verifyEvidenceChain(join(root, 'gw-x'));
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.broken).toMatchObject({ file, seq: 7, line: i + 1, reason: 'hash-mismatch' });
    });

    it('a deleted line', async () => {
      const file = await written();
      const lines = readLines(file);
      lines.splice(lineOfSeq(lines, 3), 1);
      writeLines(file, lines);
      const v = verifyEvidenceChain(join(root, 'gw-x'));
      if (v.ok) throw new Error('expected a break');
      expect(v.broken).toMatchObject({ file, seq: 4, reason: 'seq-gap' });
      expect(v.broken.detail).toBe('expected seq 3, found 4');
    });

    it('a forged checkpoint', async () => {
      const file = await written();
      const lines = readLines(file);
      const i = lines.findIndex((l) => JSON.parse(l).type === 'checkpoint' && JSON.parse(l).seq === 10);
      const cp = JSON.parse(lines[i]!);
      lines[i] = JSON.stringify({ ...cp, at: '2020-01-01T00:00:00.000Z' });
      writeLines(file, lines);
      const v = verifyEvidenceChain(join(root, 'gw-x'));
      if (v.ok) throw new Error('expected a break');
      expect(v.broken).toMatchObject({ file, seq: 10, line: i + 1, reason: 'checkpoint-signature' });
    });

    it('a rewritten chain tail that the checkpoint no longer covers', async () => {
      const file = await written();
      const lines = readLines(file);
      lines.splice(lineOfSeq(lines, 10), 1); // the last record before a checkpoint
      writeLines(file, lines);
      const v = verifyEvidenceChain(join(root, 'gw-x'));
      if (v.ok) throw new Error('expected a break');
      expect(v.broken).toMatchObject({ seq: 10, reason: 'checkpoint-mismatch' });
    });
  });

  it('records digests through the hooks and never a body, token, raw path or NIK', async () => {
    const log = createEvidenceLog({ dir: root, instanceId: 'gw-http', checkpointEvery: 2 });
    const app = Fastify({ logger: false });
    app.decorateRequest('gateway', null);
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onRequest', async (request) => {
      const ctx: GatewayRequestContext = {
        route: { org: 'disdukcapil', api: 'penduduk', version: 'v1' } as GatewayRequestContext['route'],
        caller: {
          applicationId: 'app-portal-warga',
          clientId: 'portal',
          org: 'dinkes',
        } as GatewayRequestContext['caller'],
        rest: '',
        query: '',
        upstreamStatus: 200,
        upstreamMs: 1,
      };
      request.gateway = ctx;
    });
    installEvidence(app, log);
    app.post('/disdukcapil/penduduk/v1/*', async (request, reply) =>
      reply
        .type('application/json')
        .send(Buffer.from(JSON.stringify({ echo: JSON.parse(String(request.body)) }))),
    );
    app.get('/disdukcapil/penduduk/v1/stream/*', async (_request, reply) =>
      reply.type('application/json').send(Readable.from([Buffer.from(`{"nik":"${NIK}"}`)])),
    );
    await app.ready();

    const body = JSON.stringify({ nik: NIK, nama: 'Siti Aminah' });
    const res = await app.inject({
      method: 'POST',
      url: `/disdukcapil/penduduk/v1/warga/${NIK}?nik=${NIK}`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const streamed = await app.inject({ method: 'GET', url: `/disdukcapil/penduduk/v1/stream/${NIK}` });
    expect(streamed.body).toContain(NIK);
    await app.close();
    await log.close();

    const { createHash } = await import('node:crypto');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const text = readdirSync(log.dir)
      .map((f) => readFileSync(join(log.dir, f), 'utf8'))
      .join('');
    for (const secret of [NIK, TOKEN, 'Siti Aminah', 'warga/', 'nama', 'Bearer'])
      expect(text).not.toContain(secret);

    const records = readLines(join(log.dir, 'segment-000001.jsonl'))
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'record');
    expect(records[0]).toMatchObject({
      seq: 1,
      org: 'disdukcapil',
      api: 'penduduk',
      version: 'v1',
      application: 'app-portal-warga',
      method: 'POST',
      status: 200,
      urlDigest: sha(`/disdukcapil/penduduk/v1/warga/${NIK}?nik=${NIK}`),
      requestDigest: sha(body),
      responseDigest: sha(res.body),
    });
    expect(records[1]).toMatchObject({
      seq: 2,
      method: 'GET',
      requestDigest: EMPTY_DIGEST,
      responseDigest: null,
      responseDigestReason: 'streamed',
    });
    expect(verifyEvidenceChain(log.dir)).toMatchObject({ ok: true, records: 2 });
  });
});
