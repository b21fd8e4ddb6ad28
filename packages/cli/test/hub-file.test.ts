import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubFileError, loadHubFile } from '../src/hub-file.js';

const OPENAPI = 'openapi: 3.1.0\ninfo: { title: Kependudukan, version: "1" }\npaths: {}\n';

describe('reading a hub file for spl apply', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spl-hub-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads a topic’s schemaFile, and passes an inline event schema on untouched (a field named secret is data)', () => {
    mkdirSync(join(dir, 'schemas'));
    write('schemas/kelahiran.yaml', 'type: object\nproperties:\n  nomorAkta: { type: string }\n');
    const file = write(
      'hub.yaml',
      [
        'apiVersion: spl/v1',
        'topics:',
        '  - { org: disdukcapil, slug: kelahiran, classification: terbatas, schemaFile: schemas/kelahiran.yaml }',
        '  - org: dinsos',
        '    slug: bantuan',
        '    classification: rahasia',
        '    schema: { type: object, properties: { secret: { type: string }, openapiFile: { type: string } } }',
      ].join('\n'),
    );
    const doc = loadHubFile(file, {});
    expect(doc.topics).toEqual([
      {
        org: 'disdukcapil',
        slug: 'kelahiran',
        classification: 'terbatas',
        schema: { type: 'object', properties: { nomorAkta: { type: 'string' } } },
      },
      {
        org: 'dinsos',
        slug: 'bantuan',
        classification: 'rahasia',
        schema: {
          type: 'object',
          properties: { secret: { type: 'string' }, openapiFile: { type: 'string' } },
        },
      },
    ]);
  });

  it('inlines each openapiFile, read relative to the YAML file’s folder', () => {
    mkdirSync(join(dir, 'openapi'));
    write('openapi/kependudukan-v1.yaml', OPENAPI);
    const file = write(
      'hub.yaml',
      [
        'apiVersion: spl/v1',
        'apis:',
        '  - org: disdukcapil',
        '    slug: kependudukan',
        '    versions:',
        '      - version: v1',
        '        openapiFile: openapi/kependudukan-v1.yaml',
        '        state: published',
      ].join('\n'),
    );
    const doc = loadHubFile(file, {});
    expect(doc).toEqual({
      apiVersion: 'spl/v1',
      apis: [
        {
          org: 'disdukcapil',
          slug: 'kependudukan',
          versions: [{ version: 'v1', openapi: OPENAPI, state: 'published' }],
        },
      ],
    });
  });

  it('replaces every secretRef "env:NAME", however deep, with the variable’s value', () => {
    const file = write(
      'hub.yaml',
      [
        'apiVersion: spl/v1',
        'users:',
        '  - username: rina.operator',
        '    client: { clientId: demo-operator-rina, secretRef: "env:SPL_TEST_OPERATOR_SECRET" }',
        'apis:',
        '  - org: disdukcapil',
        '    versions:',
        '      - version: v1',
        '        upstreamAuth: { kind: header, name: X-Api-Key, secretRef: "env:SPL_TEST_UPSTREAM_KEY" }',
      ].join('\n'),
    );
    const doc = loadHubFile(file, {
      SPL_TEST_OPERATOR_SECRET: 's3cret-operator',
      SPL_TEST_UPSTREAM_KEY: 'k3y',
    });
    expect(doc.users).toEqual([
      { username: 'rina.operator', client: { clientId: 'demo-operator-rina', secret: 's3cret-operator' } },
    ]);
    expect(JSON.stringify(doc.apis)).toContain(
      '"upstreamAuth":{"kind":"header","name":"X-Api-Key","secret":"k3y"}',
    );
    expect(JSON.stringify(doc)).not.toContain('secretRef');
  });

  it('names the unset environment variable and where it is referenced', () => {
    const file = write(
      'hub.yaml',
      'apiVersion: spl/v1\napplications:\n  - slug: rujukan\n    client: { clientId: c, secretRef: "env:SPL_TEST_MISSING" }\n',
    );
    expect(() => loadHubFile(file, {})).toThrowError(HubFileError);
    expect(() => loadHubFile(file, {})).toThrowError(
      `${file}: /applications/0/client/secretRef: environment variable SPL_TEST_MISSING is not set`,
    );
    expect(() => loadHubFile(file, { SPL_TEST_MISSING: '' })).toThrowError(
      /SPL_TEST_MISSING is not set \(it is empty\)/,
    );
  });

  it('refuses a secretRef of another scheme, and a plaintext secret', () => {
    const vault = write(
      'vault.yaml',
      'apiVersion: spl/v1\nusers:\n  - client: { secretRef: "vault:kv/spl" }\n',
    );
    expect(() => loadHubFile(vault, {})).toThrowError(
      /\/users\/0\/client\/secretRef: secretRef scheme "vault:" is not supported/,
    );
    const plain = write(
      'plain.yaml',
      'apiVersion: spl/v1\nusers:\n  - client: { clientId: c, secret: hunter2 }\n',
    );
    expect(() => loadHubFile(plain, {})).toThrowError(/holds no plaintext secret/);
  });

  it('refuses a file without apiVersion spl/v1', () => {
    const other = write('other.yaml', 'apiVersion: spl/v2\norganisations: []\n');
    expect(() => loadHubFile(other, {})).toThrowError(
      `${other}: apiVersion "spl/v2" is not supported (expected spl/v1)`,
    );
    const none = write('none.yaml', 'organisations: []\n');
    expect(() => loadHubFile(none, {})).toThrowError(/apiVersion is missing/);
    const list = write('list.yaml', '- apiVersion: spl/v1\n');
    expect(() => loadHubFile(list, {})).toThrowError(/expected a mapping/);
  });

  it('says which openapiFile cannot be read, and where bad YAML is', () => {
    const missing = write(
      'missing.yaml',
      'apiVersion: spl/v1\napis:\n  - versions:\n      - { version: v1, openapiFile: openapi/nope.yaml }\n',
    );
    expect(() => loadHubFile(missing, {})).toThrowError(
      /\/apis\/0\/versions\/0\/openapiFile: cannot read .*openapi\/nope\.yaml: ENOENT/,
    );
    const broken = write('broken.yaml', 'apiVersion: spl/v1\norganisations:\n  - slug: [unclosed\n');
    expect(() => loadHubFile(broken, {})).toThrowError(new RegExp(`^${broken}:\\d+:\\d+: `));
  });

  it('reads the demo’s own hub file once its secrets are in the environment', () => {
    const demo = fileURLToPath(new URL('../../../demo/hub.yaml', import.meta.url));
    const env = Object.fromEntries(
      [...readFileSync(demo, 'utf8').matchAll(/env:([A-Z0-9_]+)/g)].map(([, name]) => [
        name,
        `secret-of-${name}`,
      ]),
    );
    const doc = loadHubFile(demo, env as Record<string, string>);
    expect(doc.apiVersion).toBe('spl/v1');
    const json = JSON.stringify(doc);
    expect(json).not.toMatch(/secretRef|openapiFile/);
    expect(json).toContain('"openapi":"');
  });
});
