import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';
import { type RegistryProcess, startRegistryProcess } from './helpers/registry-process.js';

type Credentials = { clientId: string; clientSecret: string };

/**
 * A topic from the hub file to a consented push subscription, each step with the `spl`
 * command of the person whose act it is: the operator applies the file, the publisher
 * submits and publishes, the operator and the reviewer grant the kelaikan, the consumer
 * subscribes, the owner consents, the consumer rotates its signing secret.
 */
describe('spl topic commands against a running registry', () => {
  let registry: RegistryProcess;
  let dir: string;
  const people: Record<string, Credentials> = {};

  async function call(path: string, body: object): Promise<Record<string, unknown>> {
    const token = await fetch(`${registry.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...toForm(registry.operator) }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const res = await fetch(`${registry.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }
  const toForm = (c: Credentials) => ({ client_id: c.clientId, client_secret: c.clientSecret });

  async function spl(who: Credentials, ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--url', registry.url, ...argv], {
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
      env: { SPL_CLIENT_ID: who.clientId, SPL_CLIENT_SECRET: who.clientSecret },
      cwd: dir,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    registry = await startRegistryProcess();
    dir = mkdtempSync(join(tmpdir(), 'spl-cli-topics-'));
    writeFileSync(
      join(dir, 'hub.yaml'),
      [
        'apiVersion: spl/v1',
        'organisations:',
        '  - { slug: disdukcapil, name: Dinas Kependudukan dan Pencatatan Sipil, kind: perangkat-daerah }',
        '  - { slug: dinkes, name: Dinas Kesehatan, kind: perangkat-daerah }',
        'applications:',
        '  - { org: dinkes, slug: imunisasi, name: Imunisasi, client: { clientId: dinkes-imunisasi } }',
        'topics:',
        '  - org: disdukcapil',
        '    slug: kelahiran',
        '    description: Kelahiran yang tercatat',
        '    classification: terbatas',
        '    schema:',
        '      type: object',
        '      required: [nomorAkta]',
        '      properties: { nomorAkta: { type: string } }',
      ].join('\n'),
    );
    const applied = await spl(
      registry.operator,
      'apply',
      '-f',
      join(dir, 'hub.yaml'),
      '--credentials-out',
      join(dir, 'apps.json'),
    );
    if (applied.code !== 0) throw new Error(applied.err);
    for (const [name, org, role] of [
      ['publisher', 'disdukcapil', 'publisher'],
      ['operator', 'diskominfo', 'operator'],
      ['reviewer', 'diskominfo', 'reviewer'],
      ['consumer', 'dinkes', 'consumer'],
    ] as const) {
      const created = await call('/v1/users', { username: `cli-${name}`, name, org, roles: [role] });
      people[name] = created.credentials as Credentials;
    }
  }, 90_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('walks a topic through its lifecycle, each gate by its own person', async () => {
    expect((await spl(people.consumer!, 'topic', 'submit', 'disdukcapil/kelahiran')).code).toBe(1);
    for (const [who, action, state] of [
      ['publisher', 'submit', 'submitted'],
      ['operator', 'approve', 'kelaikan_operasi'],
      ['reviewer', 'approve', 'kelaikan_keamanan'],
      ['publisher', 'publish', 'published'],
    ] as const) {
      const res = await spl(people[who]!, 'topic', action, 'disdukcapil/kelahiran');
      expect(res.code, res.err).toBe(0);
      expect(res.out).toBe(`disdukcapil/kelahiran: ${action} → ${state}`);
    }
    const list = await spl(people.consumer!, 'list', 'topics');
    expect(list.out).toMatch(/disdukcapil\/kelahiran\s+published\s+terbatas/);
    const asyncapi = await spl(people.consumer!, 'show', 'topic', 'disdukcapil/kelahiran', '--asyncapi');
    expect(JSON.parse(asyncapi.out)).toMatchObject({ asyncapi: '3.0.0' });
  });

  it('subscribes with push, writes the signing secret only to a 0600 file, and rotates it', async () => {
    const refused = await spl(
      people.consumer!,
      'topic',
      'subscribe',
      'dinkes/imunisasi',
      'disdukcapil/kelahiran',
      '--purpose',
      'Jadwal imunisasi bayi baru lahir',
      '--push',
      'https://imunisasi.dinkes.example.go.id/events',
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('--credentials-out');

    const out = join(dir, 'webhook.json');
    const res = await spl(
      people.consumer!,
      'topic',
      'subscribe',
      'dinkes/imunisasi',
      'disdukcapil/kelahiran',
      '--purpose',
      'Jadwal imunisasi bayi baru lahir',
      '--push',
      'https://imunisasi.dinkes.example.go.id/events',
      '--type',
      'kelahiran.v1',
      '--credentials-out',
      out,
    );
    expect(res.code, res.err).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { subscription: string; webhookSecret: string };
    expect(written.webhookSecret).toMatch(/^whsec_/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(res.out + res.err).not.toContain(written.webhookSecret);
    expect(res.out).toContain(
      `topic subscription ${written.subscription}: dinkes/imunisasi → disdukcapil/kelahiran (push, pending)`,
    );

    const inbox = await spl(people.publisher!, 'inbox');
    expect(inbox.out).toContain('consent-topic-subscription');
    const consent = await spl(people.publisher!, 'topic', 'consent', written.subscription, 'approve');
    expect(consent.out).toBe(`topic subscription ${written.subscription}: approve → approved`);

    const rotatedOut = join(dir, 'webhook-2.json');
    const rotated = await spl(
      people.consumer!,
      'topic',
      'rotate-secret',
      written.subscription,
      '--overlap',
      '600',
      '--credentials-out',
      rotatedOut,
    );
    expect(rotated.code, rotated.err).toBe(0);
    const second = JSON.parse(readFileSync(rotatedOut, 'utf8')) as { webhookSecret: string };
    expect(second.webhookSecret).not.toBe(written.webhookSecret);
    expect(rotated.out).not.toContain(second.webhookSecret);
  });
});
