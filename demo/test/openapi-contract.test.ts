import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEMO_RESIDENTS } from '../src/residents.js';
import { buildDemoUpstream } from '../src/upstream-app.js';

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const OPENAPI_FILE = join(DEMO_DIR, 'openapi/kependudukan-v1.yaml');

interface OpenApiDoc {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
}

async function loadYaml<T>(file: string): Promise<T> {
  return parse(await readFile(file, 'utf8')) as T;
}

describe('the demo OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await loadYaml<OpenApiDoc>(OPENAPI_FILE);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it('points at the demo upstream and marks nik and alamat dikecualikan', async () => {
    const doc = await loadYaml<OpenApiDoc>(OPENAPI_FILE);
    expect(doc.servers[0]?.url).toBe('http://127.0.0.1:8090');
    const penduduk = doc.components.schemas.Penduduk?.properties ?? {};
    expect(penduduk.nik?.['x-spl-classification']).toBe('dikecualikan');
    expect(penduduk.alamat?.['x-spl-classification']).toBe('dikecualikan');
  });

  it('declares exactly the operations the upstream serves', async () => {
    const doc = await loadYaml<OpenApiDoc>(OPENAPI_FILE);
    const declared = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(declared.sort()).toEqual(
      ['GET /penduduk', 'GET /penduduk/{nik}', 'GET /status', 'POST /verifikasi'].sort(),
    );

    const app = await buildDemoUpstream({ logger: false });
    try {
      for (const operation of declared) {
        const [method, path] = operation.split(' ') as [string, string];
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        expect(app.hasRoute({ method: method as 'GET' | 'POST', url }), operation).toBe(true);
      }
      // Every record the API can answer satisfies the document's Penduduk `required` list.
      const required = (doc.components.schemas.Penduduk as { required: string[] }).required;
      for (const p of DEMO_RESIDENTS) expect(Object.keys(p).sort()).toEqual([...required].sort());
    } finally {
      await app.close();
    }
  });
});

describe('the demo hub content (hub.yaml)', () => {
  interface HubFile {
    apiVersion: string;
    organisations: Array<{ slug: string; kind: string }>;
    users: Array<{ org: string; roles: string[]; client: { clientId: string; secretRef: string } }>;
    apis: Array<{
      org: string;
      slug: string;
      versions: Array<{ version: string; openapiFile: string; upstream: { urls: string[] } }>;
    }>;
    applications: Array<{ org: string; slug: string; client: { secretRef: string } }>;
    subscriptions: Array<{ application: string; api: string; version: string; state: string }>;
  }

  it('refers only to organisations, APIs and applications it declares', async () => {
    const hub = await loadYaml<HubFile>(join(DEMO_DIR, 'hub.yaml'));
    expect(hub.apiVersion).toBe('spl/v1');
    const orgs = new Set(hub.organisations.map((o) => o.slug));
    for (const o of hub.organisations) {
      expect(['perangkat-daerah', 'instansi-pusat', 'pemda-lain', 'dinas-kominfo']).toContain(o.kind);
    }
    for (const ref of [...hub.users, ...hub.apis, ...hub.applications]) expect(orgs).toContain(ref.org);
    const apis = new Set(hub.apis.flatMap((a) => a.versions.map((v) => `${a.org}/${a.slug}@${v.version}`)));
    const apps = new Set(hub.applications.map((a) => `${a.org}/${a.slug}`));
    for (const s of hub.subscriptions) {
      expect(apps).toContain(s.application);
      expect(apis).toContain(`${s.api}@${s.version}`);
    }
  });

  it('keeps secrets out of the file and points each version at an existing OpenAPI file', async () => {
    const hub = await loadYaml<HubFile>(join(DEMO_DIR, 'hub.yaml'));
    for (const holder of [...hub.users, ...hub.applications]) {
      expect(holder.client.secretRef).toMatch(/^env:SPL_DEMO_[A-Z_]+_SECRET$/);
    }
    const doc = await loadYaml<OpenApiDoc>(OPENAPI_FILE);
    for (const version of hub.apis.flatMap((a) => a.versions)) {
      await expect(readFile(join(DEMO_DIR, version.openapiFile), 'utf8')).resolves.toBeTruthy();
      expect(version.upstream.urls).toContain(doc.servers[0]?.url);
    }
  });
});
