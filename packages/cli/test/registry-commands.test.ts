import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listApis, showApi } from '../src/commands/apis.js';
import { applyHubFile } from '../src/commands/apply.js';
import { verifyAudit } from '../src/commands/audit.js';
import { exportHub } from '../src/commands/export.js';
import { whoami } from '../src/commands/whoami.js';
import { type CliContext, createCliContext, type GlobalOptions } from '../src/context.js';
import { CliError, ProblemError } from '../src/errors.js';
import { runCli } from '../src/program.js';
import { freePort, type RegistryProcess, startRegistryProcess } from './helpers/registry-process.js';

interface Captured {
  out: string[];
  err: string[];
}

describe('spl against a running registry', () => {
  let registry: RegistryProcess;
  let cwd: string;

  beforeAll(async () => {
    registry = await startRegistryProcess();
    // A folder without .spl/demo.json, so nothing from the developer's own demo leaks in.
    cwd = mkdtempSync(join(tmpdir(), 'spl-cli-cwd-'));
  }, 90_000);

  afterAll(async () => {
    await registry?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  function context(
    options: GlobalOptions = {},
    env: Record<string, string> = {},
  ): CliContext & { captured: Captured } {
    const captured: Captured = { out: [], err: [] };
    const ctx = createCliContext(
      { url: registry.url, ...options },
      { out: (t) => captured.out.push(t), err: (t) => captured.err.push(t) },
      {
        SPL_CLIENT_ID: registry.operator.clientId,
        SPL_CLIENT_SECRET: registry.operator.clientSecret,
        ...env,
      },
      cwd,
    );
    return Object.assign(ctx, { captured });
  }

  it('whoami names the bootstrap operator client, its organisation and roles', async () => {
    const ctx = context();
    const me = await whoami(ctx);
    expect(me).toMatchObject({
      clientId: registry.operator.clientId,
      org: 'diskominfo',
      roles: ['operator'],
    });
    expect(ctx.captured.out.join('\n')).toContain(`client  ${registry.operator.clientId}`);
    expect(ctx.captured.out.join('\n')).not.toContain(registry.operator.clientSecret);
  });

  it('list apis answers with the catalog, as a table or as JSON', async () => {
    const ctx = context();
    const page = await listApis(ctx, { state: 'published' });
    expect(page.items).toEqual([]);
    expect(ctx.captured.err).toEqual(['no APIs match']);
    const json = context();
    await listApis(json, { json: true });
    expect(JSON.parse(json.captured.out.join('\n'))).toMatchObject({ items: [], total: 0 });
  });

  it('audit verify reports an intact chain', async () => {
    const ctx = context();
    const verdict = await verifyAudit(ctx);
    expect(verdict.ok).toBe(true);
    expect(ctx.captured.out[0]).toMatch(/^audit chain intact: \d+ records/);
  });

  it('prints a problem+json refusal as "code: detail" on stderr and exits 1', async () => {
    const captured: Captured = { out: [], err: [] };
    const code = await runCli(['show', 'api', 'nobody/nothing', '--url', registry.url], {
      io: { out: (t) => captured.out.push(t), err: (t) => captured.err.push(t) },
      env: { SPL_CLIENT_ID: registry.operator.clientId, SPL_CLIENT_SECRET: registry.operator.clientSecret },
      cwd,
    });
    expect(code).toBe(1);
    expect(captured.out).toEqual([]);
    expect(captured.err.join('\n')).toMatch(/^spl: SPL_[A-Z_]+: .+/);
  });

  it('a wrong secret fails authentication without echoing the secret', async () => {
    const ctx = context({ clientId: registry.operator.clientId, clientSecret: 'not-the-secret-0123456789' });
    const err = await whoami(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(
      `authentication as ${registry.operator.clientId} failed at ${registry.url}/oauth2/token: invalid_client`,
    );
    expect((err as Error).message).not.toContain('not-the-secret');
  });

  it('uses a profile of the demo file with --as', async () => {
    const splDir = join(cwd, '.spl');
    mkdirSync(splDir, { recursive: true });
    writeFileSync(join(splDir, 'demo.json'), JSON.stringify({ people: { operator: registry.operator } }), {
      mode: 0o600,
    });
    const me = await whoami(context({ as: 'people.operator' }, { SPL_CLIENT_ID: '', SPL_CLIENT_SECRET: '' }));
    expect(me.clientId).toBe(registry.operator.clientId);
    const missing = await whoami(context({ as: 'people.nobody' })).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/has no credentials under "people.nobody"/);
    rmSync(splDir, { recursive: true, force: true });
  });

  it('says where it tried to connect when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await whoami(context({ url })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).not.toBeInstanceOf(ProblemError);
    expect((err as Error).message).toBe(
      `cannot connect to the registry at ${url} (ECONNREFUSED); set --url or SPL_REGISTRY_URL`,
    );
  });

  it('applies a hub file idempotently, writes issued credentials only to a 0600 file, and exports it back', async () => {
    // One PD publishing one API (its OpenAPI document beside the YAML), and an application
    // whose client secret the registry generates — so the apply issues credentials.
    const dir = mkdtempSync(join(tmpdir(), 'spl-cli-apply-'));
    mkdirSync(join(dir, 'openapi'));
    copyFileSync(
      fileURLToPath(new URL('../../../demo/openapi/kependudukan-v1.yaml', import.meta.url)),
      join(dir, 'openapi/kependudukan.yaml'),
    );
    const hub = join(dir, 'hub.yaml');
    writeFileSync(
      hub,
      [
        'apiVersion: spl/v1',
        'organisations:',
        '  - { slug: disdukcapil, name: Dinas Kependudukan dan Pencatatan Sipil, kind: perangkat-daerah }',
        '  - { slug: dinkes, name: Dinas Kesehatan, kind: perangkat-daerah }',
        'apis:',
        '  - org: disdukcapil',
        '    slug: kependudukan',
        '    name: Layanan Data Kependudukan',
        '    classification: terbatas',
        '    tags: [nik]',
        '    versions:',
        '      - version: v1',
        '        openapiFile: openapi/kependudukan.yaml',
        '        upstream: { urls: ["http://127.0.0.1:8090"], timeoutMs: 5000 }',
        '        upstreamAuth: { kind: none }',
        '        plan: { requestsPerMinute: 600, bodyLimitBytes: 65536 }',
        'applications:',
        '  - { org: dinkes, slug: sistem-rujukan, name: Sistem Rujukan Dinkes, client: { clientId: dinkes-rujukan } }',
      ].join('\n'),
    );
    try {
      const dry = context();
      const preview = await applyHubFile(dry, { file: hub, dryRun: true });
      expect(preview.items.map((i) => i.result)).toContain('created');
      expect(dry.captured.err.at(-1)).toMatch(/^dry run, nothing was changed/);
      expect((await listApis(context(), { q: 'kependudukan' })).items).toEqual([]);

      const ctx = context();
      const credentialsOut = join(dir, 'issued.json');
      const report = await applyHubFile(ctx, { file: hub, credentialsOut });
      expect(ctx.captured.out).toContain('created      api disdukcapil/kependudukan');
      expect(report.issuedCredentials.map((c) => c.id)).toEqual(['dinkes/sistem-rujukan']);
      const [issued] = report.issuedCredentials;
      expect(statSync(credentialsOut).mode & 0o777).toBe(0o600);
      expect(readFileSync(credentialsOut, 'utf8')).toContain(issued!.clientSecret);
      const printed = [...ctx.captured.out, ...ctx.captured.err].join('\n');
      expect(printed).not.toContain(issued!.clientSecret);
      expect(printed).toContain(`written to ${credentialsOut}`);

      const again = context();
      const second = await applyHubFile(again, { file: hub });
      expect(second.items.every((i) => i.result === 'unchanged')).toBe(true);
      expect(second.issuedCredentials).toEqual([]);

      const shown = context();
      await showApi(shown, 'disdukcapil/kependudukan/v1');
      expect(shown.captured.out.join('\n')).toMatch(/^state: draft$/m);

      const exported = parse(await exportHub(context())) as {
        apiVersion: string;
        apis: Array<{ slug: string }>;
      };
      expect(exported.apiVersion).toBe('spl/v1');
      expect(exported.apis.map((a) => a.slug)).toEqual(['kependudukan']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
