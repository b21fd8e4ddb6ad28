import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { insertSlaVersion, startUpstream, waitFor } from './sla-fixtures.js';

function promtoolPath(): string | undefined {
  for (const path of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(path)) return path;
  return undefined;
}

describe('the SLA prober', () => {
  let r: TestRegistry | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await r?.close();
    r = undefined;
    for (const close of closers.splice(0)) await close();
  });

  it('probes each published version at its health path and stores what it found', async () => {
    const healthy = await startUpstream(() => 200);
    const failing = await startUpstream(() => 503);
    closers.push(healthy.close, failing.close);
    r = await buildTestRegistry({
      env: { SPL_PROBE_SECONDS: '1', SPL_PROBE_LEASE_SECONDS: '2', SPL_EGRESS_ALLOW: '127.0.0.1' },
    });
    const up = await insertSlaVersion(r, {
      org: 'disdukcapil',
      api: 'kependudukan',
      upstream: { urls: [`${healthy.url}/api/v1`], healthPath: '/health' },
    });
    const down = await insertSlaVersion(r, {
      org: 'disdukcapil',
      api: 'kependudukan',
      version: 'v2',
      upstream: { urls: [`${failing.url}/base`] },
    });
    // Several URLs: the first is refused (nothing listens on port 9), the second decides.
    const failover = await insertSlaVersion(r, {
      org: 'dinkes',
      api: 'rujukan',
      upstream: { urls: ['http://127.0.0.1:9', healthy.url] },
    });
    const draft = await insertSlaVersion(r, {
      org: 'dinkes',
      api: 'rujukan',
      version: 'v2',
      state: 'draft',
      upstream: { urls: [healthy.url] },
    });
    const db = r.db;

    const rows = await waitFor('two probe rounds', async () => {
      const found = await db.query<{
        version_id: string;
        ok: boolean;
        status: number | null;
        error: string | null;
      }>('SELECT version_id, ok, status, error FROM probe_results ORDER BY at, id');
      return found.filter((f) => f.version_id === up.versionId).length >= 2 && found;
    });
    const of = (id: string) => rows.filter((x) => x.version_id === id);
    expect(of(up.versionId).every((x) => x.ok && x.status === 200 && x.error === null)).toBe(true);
    expect(of(down.versionId).every((x) => !x.ok && x.status === 503 && x.error === 'answered 503')).toBe(
      true,
    );
    expect(of(failover.versionId).every((x) => x.ok && x.status === 200)).toBe(true);
    expect(of(draft.versionId)).toEqual([]);
    expect(healthy.seen.some((s) => s.method === 'HEAD' && s.url === '/health')).toBe(true);
    expect(failing.seen.every((s) => s.method === 'HEAD' && s.url === '/base')).toBe(true);
  });

  it('refuses a probe to an address SPL_EGRESS_ALLOW does not list', async () => {
    const healthy = await startUpstream(() => 200);
    closers.push(healthy.close);
    r = await buildTestRegistry({
      env: { SPL_PROBE_SECONDS: '1', SPL_PROBE_LEASE_SECONDS: '2', SPL_EGRESS_ALLOW: 'api.example.go.id' },
    });
    const { versionId } = await insertSlaVersion(r, {
      org: 'dinkes',
      api: 'rujukan',
      upstream: { urls: [healthy.url] },
    });
    const db = r.db;
    const [row] = await waitFor('a probe round', async () => {
      const found = await db.query<{ ok: boolean; error: string }>(
        'SELECT ok, error FROM probe_results WHERE version_id = $1',
        [versionId],
      );
      return found.length > 0 && found;
    });
    expect(row!.ok).toBe(false);
    expect(row!.error).toMatch(/^egress refused: .*SPL_EGRESS_ALLOW/);
    expect(healthy.seen).toEqual([]);
  });

  it('puts the health path in the snapshot and exports the SLA metrics in a form promtool accepts', async () => {
    const healthy = await startUpstream(() => 200);
    closers.push(healthy.close);
    r = await buildTestRegistry({
      env: { SPL_PROBE_SECONDS: '1', SPL_PROBE_LEASE_SECONDS: '2', SPL_EGRESS_ALLOW: '127.0.0.1' },
    });
    const { versionId } = await insertSlaVersion(r, {
      org: 'disdukcapil',
      api: 'kependudukan',
      slaTarget: 99.5,
      upstream: { urls: [healthy.url], healthPath: '/health' },
    });
    const db = r.db;
    await waitFor(
      'a probe round',
      async () =>
        (await db.query('SELECT 1 FROM probe_results WHERE version_id = $1', [versionId])).length > 0,
    );
    r.ctx.snapshots.markChanged();
    const token = await r.operatorToken();
    const app = r.app;
    const route = await waitFor('the snapshot', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/snapshot', headers: bearer(token) });
      return (
        res.statusCode === 200 &&
        (res.json().routes as Array<{ id: string; upstream: unknown }>).find((x) => x.id === versionId)
      );
    });
    expect(route.upstream).toEqual({ urls: [healthy.url], timeoutMs: 10000, healthPath: '/health' });

    const text = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    const labels = 'org="disdukcapil",api="kependudukan",version="v1"';
    expect(text).toMatch(new RegExp(`spl_registry_api_availability_ratio\\{${labels}[^}]*\\} 1\\n`));
    expect(text).toMatch(new RegExp(`spl_registry_api_sla_target_ratio\\{${labels}[^}]*\\} 0.995\\n`));
    expect(text).toMatch(
      /spl_registry_probe_duration_seconds_count\{[^}]*org="disdukcapil",api="kependudukan",version="v1"\} [1-9]/,
    );
    const promtool = promtoolPath();
    if (!promtool) return;
    let output = '';
    try {
      execFileSync(promtool, ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
    // prom-client's own `nodejs_active_*_total` gauges trip the counter-suffix lint (as in the
    // gateway's metrics test); nothing of ours may.
    const problems = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !/active_(handles|requests|resources)_total/.test(line));
    expect(problems).toEqual([]);
  });
});
