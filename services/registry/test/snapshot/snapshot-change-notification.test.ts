import { randomUUID } from 'node:crypto';
import { parseSnapshot, parseSnapshotNotice, type SnapshotNotice } from '@spl/snapshot';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit-trail.js';
import { SYSTEM_ACTOR } from '../../src/auth/principal.js';
import { bearer, buildTestRegistry, TEST_REDIS_URL, type TestRegistry } from '../helpers/test-registry.js';

describe('snapshot change notification', () => {
  let r: TestRegistry;
  let subscriber: Redis;
  let notices: SnapshotNotice[];

  const fetchSnapshot = async () => {
    const res = await r.app.inject({ url: '/v1/snapshot', headers: bearer(await r.operatorToken()) });
    expect(res.statusCode).toBe(200);
    return parseSnapshot(res.body);
  };
  const waitForNotice = async (count: number, timeoutMs = 3000) => {
    const until = Date.now() + timeoutMs;
    while (notices.length < count && Date.now() < until) await new Promise((ok) => setTimeout(ok, 20));
    return notices;
  };
  const settle = () => new Promise((ok) => setTimeout(ok, 300));

  beforeAll(async () => {
    r = await buildTestRegistry();
    await r.operatorToken();
    subscriber = new Redis(TEST_REDIS_URL);
    subscriber.on('message', (_channel: string, message: string) => {
      const notice = parseSnapshotNotice(message);
      if (notice) notices.push(notice);
    });
    await subscriber.subscribe(r.ctx.keys.snapshotChannel);
    await fetchSnapshot();
    await settle();
  });
  afterEach(() => {
    notices = [];
  });
  afterAll(async () => {
    subscriber?.disconnect();
    await r?.close();
  });

  it('announces {version, etag} on the Redis channel after a change, and serves that snapshot', async () => {
    notices = [];
    const before = await fetchSnapshot();
    await r.organisation('dinsos');
    const [notice] = await waitForNotice(1);
    expect(notice).toBeDefined();
    expect(notice!.etag).not.toBe(before.etag);
    expect(notice!.version).toBeGreaterThan(before.version);
    const after = await fetchSnapshot();
    expect(after).toMatchObject({ etag: notice!.etag, version: notice!.version });
    expect(after.organisations.map((o) => o.slug)).toContain('dinsos');
  });

  it('keeps the same etag and version, and says nothing, when a change does not touch the content', async () => {
    notices = [];
    const before = await fetchSnapshot();
    // A person and their personal client: audited, but nothing a data plane needs.
    await r.person({ org: 'diskominfo', roles: ['auditor'] });
    await settle();
    const after = await fetchSnapshot();
    expect(after.etag).toBe(before.etag);
    expect(after.version).toBe(before.version);
    expect(after.generatedAt).toBe(before.generatedAt);
    expect(notices).toEqual([]);
  });

  it('compiles many changes in a burst once or a few times, not once per change', async () => {
    notices = [];
    await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((slug) => r.organisation(`burst-${slug}`)));
    await settle();
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices.length).toBeLessThan(6);
    const last = notices.at(-1)!;
    const served = await fetchSnapshot();
    expect(served.etag).toBe(last.etag);
    expect(served.organisations.filter((o) => o.slug.startsWith('burst-'))).toHaveLength(6);
  });

  it('notices a change committed by another registry instance from the audit head on the next GET', async () => {
    const before = await fetchSnapshot();
    // Another instance: the same store, but this instance's markChanged is never called.
    await r.db.transaction(async (tx) => {
      await tx.query(
        "INSERT INTO organisations (id, slug, name, kind) VALUES ($1, 'elsewhere', 'Elsewhere', 'pemda-lain')",
        [randomUUID()],
      );
      await appendAudit(
        tx,
        SYSTEM_ACTOR,
        { action: 'organisation.create', entityType: 'organisation', entityId: 'elsewhere' },
        new Date(),
      );
    });
    const after = await fetchSnapshot();
    expect(after.etag).not.toBe(before.etag);
    expect(after.organisations.map((o) => o.slug)).toContain('elsewhere');
  });

  it('exposes the snapshot version and compile time as metrics', async () => {
    const served = await fetchSnapshot();
    const metrics = (await r.app.inject('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`^spl_registry_snapshot_version\\{[^}]*\\} ${served.version}$`, 'm'));
    expect(metrics).toMatch(/^spl_registry_snapshot_compile_seconds_count\{[^}]*\} [1-9]/m);
  });
});
