import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  createEvidenceChain,
  EMPTY_DIGEST,
  EVIDENCE_FORMAT,
  encodePublicKey,
  segmentFileName,
  verifyEvidenceDir,
} from '@spl/evidence-log';
import { createSecretBox } from '@spl/secret-box';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type RegistryApp } from '../../src/app.js';
import { BackupError, backupHub, restoreHub } from '../../src/backup/store-backup.js';
import { loadRegistryConfig } from '../../src/config.js';
import type { Database } from '../../src/store/database.js';
import { DEMO_SECRETS, loadDemoHub } from '../helpers/demo-hub.js';
import {
  bearer,
  deleteRedisPrefix,
  openTestDatabase,
  TEST_REDIS_URL,
  tokenRequest,
} from '../helpers/test-registry.js';

const MASTER = randomBytes(32);
const BOOTSTRAP = {
  clientId: 'bootstrap-operator',
  clientSecret: 'bootstrap-secret-for-tests-only-0123456789',
};

/** A registry on `db`, as server.ts builds it, with the one master key both sides share. */
async function registryOn(db: Database, redis: Redis, prefix: string): Promise<RegistryApp> {
  const config = loadRegistryConfig({
    SPL_PUBLIC_URL: 'http://registry.test',
    SPL_REDIS_PREFIX: prefix,
    REDIS_URL: TEST_REDIS_URL,
    SPL_BOOTSTRAP_CLIENT_ID: BOOTSTRAP.clientId,
    SPL_BOOTSTRAP_CLIENT_SECRET: BOOTSTRAP.clientSecret,
    SPL_LOG_LEVEL: 'silent',
  });
  const built = await buildApp({ config, db, redis, secretBox: createSecretBox(MASTER), logger: false });
  await built.app.ready();
  return built;
}

async function tokenOf(r: RegistryApp, clientId: string, clientSecret: string): Promise<string> {
  const res = await tokenRequest(r.app, clientId, clientSecret);
  if (res.statusCode !== 200) throw new Error(`token ${clientId}: ${res.statusCode} ${res.body}`);
  return res.json().access_token;
}

/** What an operator and a data plane see of the hub: the audit chain's head and the routes. */
async function picture(r: RegistryApp, dataplane: { clientId: string; clientSecret: string }) {
  const op = await tokenOf(r, BOOTSTRAP.clientId, BOOTSTRAP.clientSecret);
  const verify = (await r.app.inject({ url: '/v1/audit/verify', headers: bearer(op) })).json();
  const snapshot = (
    await r.app.inject({
      url: '/v1/snapshot',
      headers: bearer(await tokenOf(r, dataplane.clientId, dataplane.clientSecret)),
    })
  ).json();
  return {
    verify,
    routes: snapshot.routes.map(
      (x: { org: string; api: string; version: string; state: string }) =>
        `${x.org}/${x.api}/${x.version}:${x.state}`,
    ),
    topics: (snapshot.topics ?? []).map((t: { org: string; topic: string }) => `${t.org}/${t.topic}`),
    subscriptions: snapshot.subscriptions.length,
    keys: snapshot.hubKeys.keys.map((k: { kid: string }) => k.kid).sort(),
  };
}

/** Issue 5 §7 (BKT 21, BTM 17, MUE 17): back up, wipe, restore — the same hub, chains verifying. */
describe('backup and restore of the hub', () => {
  const work = mkdtempSync(join(tmpdir(), 'spl-backup-'));
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefixes = [`test-${randomBytes(4).toString('hex')}`, `test-${randomBytes(4).toString('hex')}`];
  const drops: Array<() => Promise<void>> = [];
  let source: RegistryApp;
  let dataplane: { clientId: string; clientSecret: string };
  let before: Awaited<ReturnType<typeof picture>>;
  const backupFile = join(work, 'hub.spl-backup.gz');
  const evidenceRoot = join(work, 'evidence-source');

  beforeAll(async () => {
    const src = await openTestDatabase('postgres');
    drops.push(src.drop);
    source = await registryOn(src.db, redis, prefixes[0]!);
    // The demo hub, applied through the people's gates as the quick start does.
    const doc = loadDemoHub();
    const passes: Array<[string, string]> = [
      [BOOTSTRAP.clientId, BOOTSTRAP.clientSecret],
      ['demo-operator', DEMO_SECRETS.SPL_DEMO_OPERATOR_SECRET!],
      ['demo-reviewer', DEMO_SECRETS.SPL_DEMO_REVIEWER_SECRET!],
      ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
      ['demo-consumer', DEMO_SECRETS.SPL_DEMO_CONSUMER_OWNER_SECRET!],
      ['demo-publisher', DEMO_SECRETS.SPL_DEMO_PUBLISHER_SECRET!],
    ];
    for (const [id, secret] of passes) {
      const res = await source.app.inject({
        method: 'POST',
        url: '/v1/apply',
        headers: bearer(await tokenOf(source, id, secret)),
        payload: doc as object,
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    const dp = await source.app.inject({
      method: 'POST',
      url: '/v1/dataplane-clients',
      headers: bearer(await tokenOf(source, BOOTSTRAP.clientId, BOOTSTRAP.clientSecret)),
      payload: { name: 'gateway-1' },
    });
    dataplane = dp.json();
    before = await picture(source, dataplane);
    expect(before.routes).toEqual(['disdukcapil/kependudukan/v1:published']);
    expect(before.topics).toEqual(['disdukcapil/kelahiran-tercatat']);
    expect(before.subscriptions).toBe(1);

    // A gateway's evidence chain beside it.
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const chain = createEvidenceChain({ instanceId: 'gw-1', privateKey });
    const dir = join(evidenceRoot, 'gw-1');
    mkdirSync(dir, { recursive: true });
    const key = encodePublicKey(publicKey);
    writeFileSync(
      join(dir, 'key.json'),
      JSON.stringify({ format: EVIDENCE_FORMAT, instanceId: 'gw-1', alg: 'Ed25519', publicKey: key }),
    );
    const lines = [
      JSON.stringify({
        type: 'segment',
        format: EVIDENCE_FORMAT,
        instanceId: 'gw-1',
        segment: 1,
        alg: 'Ed25519',
        publicKey: key,
        firstSeq: 1,
        prevHash: chain.head,
        openedAt: new Date().toISOString(),
      }),
    ];
    for (let i = 0; i < 5; i++)
      lines.push(
        chain
          .sealLine(
            {
              requestId: `r${i}`,
              org: 'disdukcapil',
              api: 'kependudukan',
              version: 'v1',
              application: 'app',
              method: 'GET',
              status: 200,
              urlDigest: EMPTY_DIGEST,
              requestDigest: EMPTY_DIGEST,
              responseDigest: EMPTY_DIGEST,
            },
            new Date().toISOString(),
          )
          .trimEnd(),
      );
    lines.push(JSON.stringify(chain.checkpoint(new Date().toISOString())));
    writeFileSync(join(dir, segmentFileName(1)), `${lines.join('\n')}\n`);
    expect(verifyEvidenceDir(evidenceRoot).every((v) => v.ok)).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await source?.app.close();
    for (const d of drops) await d().catch(() => {});
    for (const p of prefixes) await deleteRedisPrefix(redis, p);
    redis.disconnect();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes one gzipped file, mode 0600, with every table and the evidence files and no plaintext secret', async () => {
    const summary = await backupHub({
      db: source.ctx.db,
      file: backupFile,
      evidenceRoots: { gateway: evidenceRoot },
    });
    expect(summary.files).toBe(2);
    expect(summary.rows).toBeGreaterThan(50);
    const text = gunzipSync(readFileSync(backupFile)).toString('utf8');
    for (const secret of [...Object.values(DEMO_SECRETS), BOOTSTRAP.clientSecret, dataplane.clientSecret])
      expect(text).not.toContain(secret);
    expect(text).toContain('"table":"audit_log"');
  });

  it('restores into an empty store (PostgreSQL → embedded PGlite): the same routes, keys and chains', async () => {
    const target = await openTestDatabase('pglite');
    drops.push(target.drop);
    const evidenceTarget = join(work, 'evidence-restored');
    const restored = await restoreHub({
      db: target.db,
      file: backupFile,
      evidenceRoots: { gateway: evidenceTarget },
    });
    expect(restored.files).toBe(2);
    const r = await registryOn(target.db, redis, prefixes[1]!);
    try {
      const after = await picture(r, dataplane);
      expect(after.verify).toMatchObject({ ok: true });
      // Every record of the source is there and still links; the restart may add its own.
      expect(after.verify.records).toBeGreaterThanOrEqual(before.verify.records);
      expect(after.routes).toEqual(before.routes);
      expect(after.topics).toEqual(before.topics);
      expect(after.subscriptions).toBe(before.subscriptions);
      expect(after.keys).toEqual(before.keys);
      // The demo consumer's hashed credential still works.
      await tokenOf(r, 'dinkes-sistem-rujukan', DEMO_SECRETS.SPL_DEMO_CONSUMER_SECRET!);
    } finally {
      await r.app.close();
    }
    expect(verifyEvidenceDir(evidenceTarget).every((v) => v.ok)).toBe(true);
    expect(readdirSync(join(evidenceTarget, 'gw-1')).sort()).toEqual(['key.json', segmentFileName(1)]);
  }, 120_000);

  it('refuses a store that is not empty, and a damaged backup, and changes nothing', async () => {
    await expect(restoreHub({ db: source.ctx.db, file: backupFile })).rejects.toThrow(/not empty/);
    const truncated = join(work, 'truncated.gz');
    const text = gunzipSync(readFileSync(backupFile)).toString('utf8').split('\n');
    writeFileSync(truncated, gzipSync(text.slice(0, 5).join('\n')));
    const empty = await openTestDatabase('pglite');
    drops.push(empty.drop);
    await expect(restoreHub({ db: empty.db, file: truncated })).rejects.toBeInstanceOf(BackupError);
    const garbage = join(work, 'garbage.gz');
    writeFileSync(garbage, 'not a backup');
    await expect(restoreHub({ db: empty.db, file: garbage })).rejects.toThrow(/not an SPL backup/);
    const orgs = await empty.db
      .query<{ n: number }>('SELECT count(*)::int AS n FROM organisations')
      .catch(() => [{ n: 0 }]);
    expect(orgs[0]!.n).toBe(0);
  });
});
